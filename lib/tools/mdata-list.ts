import { parseToolArgs, printValue, reportReply, withClient } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '', summary: 'List the customer metadata keys, one per line.', minArgs: 0 });
  if (typeof parsed === 'number') return parsed;
  return withClient(parsed, 'KEYS', async (client) => {
    const reply = await client.request({ code: 'KEYS' });
    if (reply.kind !== 'success') return reportReply(reply, 'No metadata', 'Error getting metadata: ', 'KEYS');
    printValue(reply.value, false);
    return EXIT.OK;
  });
};
