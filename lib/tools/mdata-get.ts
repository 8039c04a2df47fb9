import { notFound, parseToolArgs, printValue, withSession } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '<keyname>', summary: 'Print the value of one metadata key.', minArgs: 1 });
  if (typeof parsed === 'number') return parsed;
  const key = parsed.args[0];
  return withSession(parsed, { command: 'GET', failurePrefix: `Error getting metadata for key '${key}': ` }, async (session) => {
    const value = await session.getBytes(key);
    if (value === null) return notFound(`No metadata for '${key}'`);
    printValue(value, true);
    return EXIT.OK;
  });
};
