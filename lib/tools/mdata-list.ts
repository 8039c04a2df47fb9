import { notFound, parseToolArgs, printValue, withSession } from './client-cli';
import { EXIT, type ToolMain } from './run';

export const main: ToolMain = async (args, invokedAs) => {
  const parsed = parseToolArgs(args, invokedAs, { usage: '', summary: 'List the customer metadata keys, one per line.', minArgs: 0 });
  if (typeof parsed === 'number') return parsed;
  return withSession(parsed, { command: 'KEYS', failurePrefix: 'Error getting metadata: ' }, async (session) => {
    const keys = await session.keys();
    if (keys === null) return notFound('No metadata');
    printValue(Buffer.from(keys.join('\n')), false);
    return EXIT.OK;
  });
};
