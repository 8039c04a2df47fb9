import { ok, skipped, type GuestAction } from '../action';
import { homeOf } from './users';

/** `root_authorized_keys` into root's authorized_keys: when the file is missing, or when `overwrite_root_akeys` says OVERWRITE. */
export const setRootAuthorizedKeys: GuestAction = {
  name: 'set-root-authorized-keys',
  summary: "Write root_authorized_keys to root's ~/.ssh/authorized_keys when it is missing, or always with overwrite_root_akeys=overwrite.",
  keys: ['root_authorized_keys', 'overwrite_root_akeys'],
  once: false,
  async run(ctx) {
    const keys = ctx.metadata.get('root_authorized_keys');
    if (keys === null) return skipped('no root_authorized_keys in the metadata');
    const sshDir = `${await homeOf(ctx.files, 'root')}/.ssh`;
    const file = `${sshDir}/authorized_keys`;
    const overwrite = (ctx.metadata.get('overwrite_root_akeys') ?? '').trim().toLowerCase() === 'overwrite';
    if (!overwrite && (await ctx.files.stat(file)) !== null) return skipped(`${file} exists and overwrite_root_akeys is not OVERWRITE`);
    await ctx.files.mkdir(sshDir, 0o700);
    const text = keys.endsWith('\n') || keys === '' ? keys : `${keys}\n`;
    const changed = await ctx.files.write(file, text, { mode: 0o600, owner: { uid: 0, gid: 0 } });
    if (ctx.commands.which('restorecon')) await ctx.commands.run('restorecon', ['-R', ctx.files.hostPath(sshDir)], { live: true });
    const count = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).length;
    return ok(changed ? `${file}: ${count} key line(s) written` : `${file} already holds these keys`);
  },
};
