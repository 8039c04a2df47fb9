import { EXIT, parseToolArgs, reportReply, withClient, writeErr } from './client-cli';
import type { ToolMain } from './run';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '<keyname> [ <value> ]', summary: 'Set one customer metadata key; the value comes from stdin when not given.', minArgs: 1 });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  let value: Buffer;
  if (parsed.args.length >= 2) {
    value = Buffer.from(parsed.args[1], 'utf8');
  } else if (process.stdin.isTTY) {
    writeErr('ERROR: either specify the metadata value as the second command-line argument, or pipe content to stdin.');
    return EXIT.ERROR;
  } else {
    try {
      value = await readStdin();
    } catch (err) {
      writeErr(`ERROR: could not read from stdin: ${(err as Error).message}`);
      return EXIT.ERROR;
    }
  }
  return withClient(parsed, 'PUT', async (client) => {
    const reply = await client.request({ code: 'PUT', key, value });
    if (reply.kind !== 'success') return reportReply(reply, `No metadata for '${key}'`, `Error putting metadata for key '${key}': `, 'PUT');
    return EXIT.OK;
  });
};
