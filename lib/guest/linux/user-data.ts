import { ok, skipped, type GuestAction } from '../action';

export const USER_DATA_FILE = '/var/db/mdata-user-data';

/** `user-data` to /var/db/mdata-user-data (0600), removed when the key is gone; left alone when it cannot be read. */
export const getUserData: GuestAction = {
  name: 'get-user-data',
  summary: 'Write user-data to /var/db/mdata-user-data (0600); remove the file when the key is absent.',
  keys: ['user-data'],
  once: false,
  leftToCloudInit: true,
  async run(ctx) {
    const data = ctx.metadata.get('user-data');
    if (data === null) {
      return (await ctx.files.remove(USER_DATA_FILE)) ? ok(`no user-data: ${USER_DATA_FILE} removed`) : skipped('no user-data in the metadata');
    }
    const changed = await ctx.files.write(USER_DATA_FILE, data, { mode: 0o600, owner: { uid: 0, gid: 0 }, secret: true });
    return ok(`${USER_DATA_FILE} ${changed ? 'written' : 'unchanged'} (${Buffer.byteLength(data)} bytes)`);
  },
};
