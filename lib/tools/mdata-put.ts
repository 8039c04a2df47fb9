import { isUtf8 } from 'node:buffer';
import { BudgetExhaustedError } from '../client/session';
import { withTimeLimit } from '../time-limit';
import { fail, parseToolArgs, reportFailure, withSession, type ParsedArgs } from './client-cli';
import { EXIT, type ToolMain } from './run';

const ALLOW_INVALID_UTF8 = '--allow-invalid-utf8';

/** The largest value whose PUT line (the value base64-encoded twice) stays within a 64 MiB line. */
const MAX_VALUE_BYTES = 36 * 1024 * 1024;

class ValueTooLargeError extends Error {}

/** All of stdin, within the budget and the size limit: a pipe that never closes or never ends must not hold the tool. */
async function readStdin(parsed: ParsedArgs): Promise<Buffer> {
  const reading = (async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_VALUE_BYTES) {
        process.stdin.destroy();
        throw new ValueTooLargeError(`ERROR: the value on stdin is larger than ${MAX_VALUE_BYTES / (1024 * 1024)} MiB, more than a metadata request can carry`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  })();
  return withTimeLimit(reading, parsed.deadline - Date.now(), () => {
    process.stdin.destroy();
    throw new BudgetExhaustedError(parsed.timeoutSeconds, 'stdin was not closed');
  });
}

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, {
    usage: '<keyname> [ <value> ]',
    summary: 'Set one customer metadata key; the value comes from stdin when not given.',
    minArgs: 1,
    flags: { [ALLOW_INVALID_UTF8]: 'store a value that is not UTF-8 anyway (the host replaces each bad byte with U+FFFD)' },
  });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  let value: Buffer;
  if (parsed.args.length >= 2) {
    value = Buffer.from(parsed.args[1], 'utf8');
  } else if (process.stdin.isTTY) {
    return fail('ERROR: either specify the metadata value as the second command-line argument, or pipe content to stdin.');
  } else {
    try {
      value = await readStdin(parsed);
    } catch (err) {
      if (err instanceof BudgetExhaustedError) return reportFailure(err, '');
      if (err instanceof ValueTooLargeError) return fail(err.message);
      return fail(`ERROR: could not read from stdin: ${(err as Error).message}`);
    }
  }
  if (!parsed.flags.has(ALLOW_INVALID_UTF8) && !isUtf8(value)) {
    return fail(`ERROR: the value is not valid UTF-8, and the metadata service stores text; ${ALLOW_INVALID_UTF8} stores it with each bad byte replaced`);
  }
  return withSession(parsed, { command: 'PUT', failurePrefix: `Error putting metadata for key '${key}': ` }, async (session) => {
    await session.put(key, value);
    return EXIT.OK;
  });
};
