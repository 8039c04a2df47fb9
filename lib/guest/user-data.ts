import { ok, skipped, type GuestAction } from './action';
import type { WriteOptions } from './context';

/** `get-user-data`: `user-data` into `file`, atomically; the file is removed when the key is absent, and left alone when it cannot be read. */
export function userDataAction(file: string, options: WriteOptions, access: string): GuestAction {
  return {
    name: 'get-user-data',
    summary: `Write user-data to ${file} (${access}); remove the file when the key is absent.`,
    keys: ['user-data'],
    once: false,
    leftToCloudInit: true,
    async run(ctx) {
      const data = ctx.metadata.get('user-data');
      if (data === null) {
        return (await ctx.files.remove(file)) ? ok(`no user-data: ${file} removed`) : skipped('no user-data in the metadata');
      }
      const changed = await ctx.files.write(file, data, { ...options, secret: true });
      return ok(`${file} ${changed ? 'written' : 'unchanged'} (${Buffer.byteLength(data)} bytes)`);
    },
  };
}
