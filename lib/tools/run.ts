import { basename } from 'node:path';

/** Exit codes shared by every tool, as mdata-client uses them, plus 10 for a spent time budget. */
export const EXIT = { OK: 0, NOTFOUND: 1, ERROR: 2, USAGE: 3, TIMEOUT: 10 } as const;

/** A tool's entry point: its arguments (without node and script) and how it was invoked; returns the exit code. */
export type ToolMain = (args: string[], invokedAs: string) => Promise<number>;

/** Runs a tool as the process: sets the exit code, turns a crash into one line and exit 2. */
export function runTool(main: ToolMain, invokedAs: string, args: string[]): void {
  main(args, invokedAs).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${shortName(invokedAs)}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT.ERROR;
    },
  );
}

/** `./dist/node/mdata-get.cjs` or `C:\\x\\mdata-get.exe` -> `mdata-get`. */
export function shortName(invokedAs: string): string {
  return basename(invokedAs.replace(/\\/g, '/')).replace(/\.(cjs|js|ts|exe)$/i, '');
}
