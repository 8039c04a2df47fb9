import { basename } from 'node:path';

/** A tool's entry point: its arguments (without node and script), returning the exit code. */
export type ToolMain = (args: string[]) => Promise<number>;

/** Runs a tool as the process: sets the exit code, turns a crash into one line and exit 2. */
export function runTool(main: ToolMain, args: string[] = process.argv.slice(2)): void {
  main(args).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${toolName()}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

export function toolName(): string {
  return basename(process.argv[1] ?? process.argv0).replace(/\.(cjs|js|ts|exe)$/, '');
}
