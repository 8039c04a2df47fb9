import { parseToolArgs, withSession } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '<keyname>', summary: 'Delete one customer metadata key.', minArgs: 1 });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  return withSession(parsed, { command: 'DELETE', failurePrefix: `Error deleting metadata key '${key}': ` }, async (session) => {
    await session.delete(key);
    return EXIT.OK;
  });
};
