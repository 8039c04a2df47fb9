import { failed, ok, skipped, type GuestAction } from '../action';
import { accountLine } from './users';

/**
 * Whether a shadow password field lets nobody log in with a password: empty, `!`, `!!`, `*`, or a
 * hash locked with a leading `!` or `*` (Debian locks root with `*` or `!`).
 */
export function hasNoUsablePassword(field: string): boolean {
  return field === '' || field.startsWith('!') || field.startsWith('*');
}

/** `root_pw` as root's password, on the first boot, when root has no usable password. */
export const setRootPassword: GuestAction = {
  name: 'set-rootpassword',
  summary: 'Set root_pw as the root password when root has none (an empty, ! , !! or * field, or a locked hash).',
  keys: ['root_pw'],
  once: true,
  async run(ctx) {
    const password = ctx.metadata.get('root_pw');
    if (password === null) return skipped('no root_pw in the metadata');
    if (/[\r\n]/.test(password) || password === '') return failed('root_pw is empty or holds a line break; not applied');
    const shadow = await accountLine(ctx.files, '/etc/shadow', 'root');
    if (shadow === null) return failed('no root entry in /etc/shadow');
    if (!hasNoUsablePassword(shadow[1] ?? '')) return skipped('root already has a password');
    // The password goes on stdin, never on a command line; -R applies it to the root's own files.
    const args = ctx.root === '/' ? [] : ['-R', ctx.root];
    const r = await ctx.commands.run('chpasswd', args, { input: `root:${password}\n` });
    if (r.code !== 0) return failed(`chpasswd exited ${r.code}: ${r.stderr.trim()}`);
    return ok('root password set from root_pw');
  },
};
