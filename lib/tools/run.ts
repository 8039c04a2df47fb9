import { basename } from 'node:path';

/**
 * Exit codes shared by every tool, as mdata-client uses them, plus 10 for a spent time budget and
 * 141 for a reader that closed our stdout (what a shell reports for a C tool killed by SIGPIPE).
 */
export const EXIT = { OK: 0, NOTFOUND: 1, ERROR: 2, USAGE: 3, TIMEOUT: 10, STDOUT_CLOSED: 141 } as const;

/** A tool's entry point: its arguments (without node and script) and how it was invoked; returns the exit code. */
export type ToolMain = (args: string[], invokedAs: string) => Promise<number>;

/**
 * Runs a tool as the process: sets the exit code; any crash, even outside the tool's promise,
 * becomes one line and exit 2; a closed stdout ends the tool quietly.
 */
export function runTool(main: ToolMain, invokedAs: string, args: string[]): void {
  const crash = (err: unknown) => {
    process.stderr.write(`${shortName(invokedAs)}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.ERROR);
  };
  process.on('uncaughtException', crash);
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.STDOUT_CLOSED);
    crash(err);
  });
  main(args, invokedAs).then((code) => {
    process.exitCode = code;
  }, crash);
}

/** `./dist/node/mdata-get.cjs` or `C:\\x\\mdata-get.exe` -> `mdata-get`. */
export function shortName(invokedAs: string): string {
  return basename(invokedAs.replace(/\\/g, '/')).replace(/\.(cjs|js|ts|exe)$/i, '');
}
