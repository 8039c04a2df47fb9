import type { Operation } from '../client/metadata-client';
import { BudgetExhaustedError, HostFailureError, NotFoundError, openMetadataSession, UnsupportedError, type MetadataSession } from '../client/session';
import { parseSeconds } from '../time-limit';
import { versionLine } from '../version';
import { EXIT, shortName, writeStdout } from './run';

export const DEFAULT_TIMEOUT_SECONDS = 60;

interface ToolSpec {
  /** Usage after `<argv0>`, as mdata-client prints it: `<keyname>`. */
  usage: string;
  summary: string;
  minArgs: number;
  /** The tool's own switches, with their help lines. */
  flags?: Record<string, string>;
}

export interface ParsedArgs {
  args: string[];
  flags: Set<string>;
  timeoutSeconds: number;
  /** When the budget runs out (Date.now() ms), counted from the start. */
  deadline: number;
}

export function writeErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function helpText(name: string, spec: ToolSpec): string {
  const flags = Object.entries(spec.flags ?? {});
  return [
    `Usage: ${name} [--timeout SECONDS] ${flags.map(([flag]) => `[${flag}] `).join('')}${spec.usage}`,
    spec.summary,
    '',
    'Options:',
    `  --timeout SECONDS  give up after this long, with exit 10 (default ${DEFAULT_TIMEOUT_SECONDS}; env MDATA_TIMEOUT)`,
    ...flags.map(([flag, help]) => `  ${flag.padEnd(18)} ${help}`),
    '  --help             show this help',
    '  --version          show the version',
    '',
    'Environment: MDATA_SOCKET=<path> or MDATA_SERIAL=<device> choose the transport.',
    'Exit codes: 0 success, 1 not found, 2 error, 3 usage, 10 timed out.',
    '',
  ].join('\n');
}

/**
 * Leading options, then the tool's arguments as mdata-client takes them (extra ones ignored).
 * Returns an exit code when the tool is already done (help, version, usage).
 */
export function parseToolArgs(args: string[], invokedAs: string, spec: ToolSpec): ParsedArgs | number {
  const name = shortName(invokedAs);
  let timeoutText = process.env.MDATA_TIMEOUT;
  let source = 'MDATA_TIMEOUT';
  const flags = new Set<string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    } else if (a === '--help') {
      writeStdout(helpText(name, spec));
      return EXIT.OK;
    } else if (a === '--version') {
      writeStdout(versionLine(name));
      return EXIT.OK;
    } else if (a === '--timeout' || a.startsWith('--timeout=')) {
      timeoutText = a === '--timeout' ? args[++i] : a.slice('--timeout='.length);
      source = '--timeout';
    } else if (spec.flags && Object.hasOwn(spec.flags, a)) {
      flags.add(a);
    } else break;
  }
  const rest = args.slice(i);
  if (rest.length < spec.minArgs) {
    writeErr(`${name}: Usage: ${invokedAs} ${spec.usage}`);
    return EXIT.USAGE;
  }
  try {
    const given = timeoutText !== undefined || source === '--timeout';
    const timeoutSeconds = given ? parseSeconds(timeoutText, source) : DEFAULT_TIMEOUT_SECONDS;
    return { args: rest, flags, timeoutSeconds, deadline: Date.now() + timeoutSeconds * 1000 };
  } catch (err) {
    writeErr(`${name}: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
}

interface ToolMessages {
  /** The operation, as in `ERROR: host does not support GET`. */
  command: Operation['code'];
  /** Printed before a FAILURE reply's text: `Error getting metadata for key 'k': `. */
  failurePrefix: string;
}

/**
 * Opens a metadata session, runs the tool's work and turns the session's typed errors into
 * mdata-client's messages and exit codes.
 */
export async function withSession(parsed: ParsedArgs, messages: ToolMessages, run: (session: MetadataSession) => Promise<number>): Promise<number> {
  let session: MetadataSession;
  try {
    session = await openMetadataSession({ budgetSeconds: parsed.timeoutSeconds, deadline: parsed.deadline, log: writeErr });
  } catch (err) {
    return reportFailure(err, 'ERROR: could not initialise protocol: ');
  }
  try {
    return await run(session);
  } catch (err) {
    if (err instanceof NotFoundError) return notFound(err.message);
    if (err instanceof HostFailureError) return fail(`${messages.failurePrefix}${err.reason}`);
    if (err instanceof UnsupportedError) return fail(`ERROR: ${err.message}`);
    return reportFailure(err, `ERROR: could not execute ${messages.command}: `);
  } finally {
    await session.close();
  }
}

export function notFound(message: string): number {
  writeErr(message);
  return EXIT.NOTFOUND;
}

export function fail(message: string): number {
  writeErr(message);
  return EXIT.ERROR;
}

export function reportFailure(err: unknown, prefix: string): number {
  if (err instanceof BudgetExhaustedError) {
    writeErr(`ERROR: ${err.message}`);
    return EXIT.TIMEOUT;
  }
  return fail(`${prefix}${err instanceof Error ? err.message : String(err)}`);
}

/** Writes a value as mdata-client does: a newline is added unless it already ends in one. */
export function printValue(value: Buffer, addNewlineWhenEmpty: boolean): void {
  const needsNewline = value.length === 0 ? addNewlineWhenEmpty : value[value.length - 1] !== 0x0a;
  writeStdout(value);
  if (needsNewline) writeStdout('\n');
}
