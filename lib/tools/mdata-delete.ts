import { parseToolArgs, reportReply, withClient } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '<keyname>', summary: 'Delete one customer metadata key.', minArgs: 1 });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  return withClient(parsed, 'DELETE', async (client) => {
    const reply = await client.request({ code: 'DELETE', key });
    if (reply.kind !== 'success') return reportReply(reply, `No metadata for '${key}'`, `Error deleting metadata key '${key}': `, 'DELETE');
    return EXIT.OK;
  });
};
