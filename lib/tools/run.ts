import { basename } from 'node:path';

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
      process.exitCode = 2;
    },
  );
}

/** `./dist/node/mdata-get.cjs` or `C:\\x\\mdata-get.exe` -> `mdata-get`. */
export function shortName(invokedAs: string): string {
  return basename(invokedAs.replace(/\\/g, '/')).replace(/\.(cjs|js|ts|exe)$/i, '');
}
