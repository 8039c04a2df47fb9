import type { GuestContext } from '../context';
import type { RestartKind } from '../system';

/** `poweroff` or `reboot` where installed (systemd, sysvinit, busybox), else `shutdown`. */
export async function restartLinux(ctx: GuestContext, kind: RestartKind): Promise<void> {
  const [command, ...args] = ctx.commands.which(kind) ? [kind] : ['shutdown', kind === 'poweroff' ? '-h' : '-r', 'now'];
  await ctx.commands.run(command, args, { live: true, timeoutMs: 60_000 });
}
