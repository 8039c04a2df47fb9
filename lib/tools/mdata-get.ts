import { parseToolArgs, printValue, reportReply, withClient } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '<keyname>', summary: 'Print the value of one metadata key.', minArgs: 1 });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  return withClient(parsed, 'GET', async (client) => {
    const reply = await client.request({ code: 'GET', key });
    if (reply.kind !== 'success') return reportReply(reply, `No metadata for '${key}'`, `Error getting metadata for key '${key}': `, 'GET');
    printValue(reply.value, true);
    return EXIT.OK;
  });
};
