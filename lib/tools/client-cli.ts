import { BudgetExhaustedError, MetadataClient, type Reply } from '../client/metadata-client';
import { findMetadataTarget, openerFor } from '../transport/detect';
import { versionLine } from '../version';
import { EXIT, shortName } from './run';

const DEFAULT_TIMEOUT_SECONDS = 60;

export interface ToolSpec {
  /** Usage after `<argv0>`, as mdata-client prints it: `<keyname>`. */
  usage: string;
  summary: string;
  minArgs: number;
}

export interface ParsedArgs {
  args: string[];
  timeoutSeconds: number;
  /** When the budget runs out (Date.now() ms), counted from the start. */
  deadline: number;
}

/** The longest budget a timer can hold (2^31 - 1 ms), in whole seconds. */
const MAX_TIMEOUT_SECONDS = 2147483;

export function writeErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function parseSeconds(text: string | undefined, source: string): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    throw new Error(`${source} must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}, got '${text ?? ''}'`);
  }
  return n;
}

function helpText(name: string, spec: ToolSpec): string {
  return [
    `Usage: ${name} [--timeout SECONDS] ${spec.usage}`,
    spec.summary,
    '',
    'Options:',
    `  --timeout SECONDS  give up after this long, with exit 10 (default ${DEFAULT_TIMEOUT_SECONDS}; env MDATA_TIMEOUT)`,
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
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    } else if (a === '--help') {
      process.stdout.write(helpText(name, spec));
      return EXIT.OK;
    } else if (a === '--version') {
      process.stdout.write(versionLine(name));
      return EXIT.OK;
    } else if (a === '--timeout' || a.startsWith('--timeout=')) {
      timeoutText = a === '--timeout' ? args[++i] : a.slice('--timeout='.length);
      source = '--timeout';
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
    return { args: rest, timeoutSeconds, deadline: Date.now() + timeoutSeconds * 1000 };
  } catch (err) {
    writeErr(`${name}: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
}

/** Connects, runs one operation and maps transport-level failures to mdata-client's messages. */
export async function withClient(parsed: ParsedArgs, command: string, run: (client: MetadataClient) => Promise<number>): Promise<number> {
  let client: MetadataClient | null = null;
  try {
    client = new MetadataClient({
      open: await openerFor(findMetadataTarget()),
      deadline: parsed.deadline,
      budgetSeconds: parsed.timeoutSeconds,
      log: writeErr,
    });
    await client.start();
  } catch (err) {
    await client?.close();
    return reportFailure(err, 'ERROR: could not initialise protocol: ');
  }
  try {
    return await run(client);
  } catch (err) {
    return reportFailure(err, `ERROR: could not execute ${command}: `);
  } finally {
    await client.close();
  }
}

export function reportFailure(err: unknown, prefix: string): number {
  if (err instanceof BudgetExhaustedError) {
    writeErr(`ERROR: ${err.message}`);
    return EXIT.TIMEOUT;
  }
  writeErr(`${prefix}${err instanceof Error ? err.message : String(err)}`);
  return EXIT.ERROR;
}

/** Exit code and stderr for the non-success replies, with the tool's own FAILURE wording. */
export function reportReply(reply: Exclude<Reply, { kind: 'success' }>, notFound: string, failurePrefix: string, command: string): number {
  switch (reply.kind) {
    case 'notfound':
      writeErr(notFound);
      return EXIT.NOTFOUND;
    case 'failure':
      writeErr(`${failurePrefix}${reply.message}`);
      return EXIT.ERROR;
    case 'unsupported':
      writeErr(`ERROR: host does not support ${command}`);
      return EXIT.ERROR;
  }
}

/** Writes a value as mdata-client does: a newline is added unless it already ends in one. */
export function printValue(value: Buffer, addNewlineWhenEmpty: boolean): void {
  const needsNewline = value.length === 0 ? addNewlineWhenEmpty : value[value.length - 1] !== 0x0a;
  process.stdout.write(needsNewline ? Buffer.concat([value, Buffer.from('\n')]) : value);
}
