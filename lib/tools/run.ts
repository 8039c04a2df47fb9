import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { platform } from '../platform';

/**
 * Exit codes shared by every tool, as mdata-client uses them, plus 10 for a spent time budget and
 * 141 for a reader that closed our stdout (what a shell reports for a C tool killed by SIGPIPE).
 */
export const EXIT = { OK: 0, NOTFOUND: 1, ERROR: 2, USAGE: 3, TIMEOUT: 10, STDOUT_CLOSED: 141 } as const;

/** A tool's entry point: its arguments (without node and script) and how it was invoked; returns the exit code. */
export type ToolMain = (args: string[], invokedAs: string) => Promise<number>;

/**
 * Runs a tool as the process: sets the exit code; any crash, even outside the tool's promise,
 * becomes one line and exit 2.
 */
export function runTool(main: ToolMain, invokedAs: string, args: string[]): void {
  const crash = (err: unknown) => {
    process.stderr.write(`${shortName(invokedAs)}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.ERROR);
  };
  process.on('uncaughtException', crash);
  main(args, invokedAs).then((code) => {
    process.exitCode = code;
  }, crash);
}

// Windows consoles need process.stdout, which turns UTF-8 into the console's UTF-16.
let streamed = platform.name === 'windows';

function stdoutStream(): NodeJS.WriteStream {
  if (!streamed) {
    streamed = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.STDOUT_CLOSED);
      throw err; // runTool's crash handler
    });
  }
  return process.stdout;
}

/**
 * Writes to stdout as the C tools do, synchronously: no stream to load, so `--version` starts as
 * fast as `node -e 0`. A closed stdout ends the tool with exit 141. A non-blocking stdout that is
 * full hands the rest, and all later output, to process.stdout, which waits for the reader.
 */
export function writeStdout(data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  if (!streamed) {
    try {
      while (done < bytes.length) done += writeSync(1, bytes, done);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(EXIT.STDOUT_CLOSED);
      if (code !== 'EAGAIN') throw err;
    }
  }
  stdoutStream().write(bytes.subarray(done));
}

/** `./dist/node/mdata-get.cjs` or `C:\\x\\mdata-get.exe` -> `mdata-get`. */
export function shortName(invokedAs: string): string {
  return basename(invokedAs.replace(/\\/g, '/')).replace(/\.(cjs|js|ts|exe)$/i, '');
}
