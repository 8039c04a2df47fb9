import type { ActionOutcome } from '../action';
import type { GuestContext } from '../context';
import { logScriptLine, scriptOutcome } from '../scripts';

/** Scripts live here, in a folder only root can enter: never a fixed name in a shared /tmp. */
export const SCRIPT_DIR = '/var/lib/sdc-guest/scripts';

/**
 * Writes `script` to a private 0700 file and runs it (with /bin/sh when it has no `#!` line),
 * bounded by `timeoutSeconds`. Its output goes to the log line by line; its exit status is the
 * outcome. Scripts act on the running system, so under `--root` without `--live` they are not run.
 */
export async function runScript(ctx: GuestContext, name: string, script: string, timeoutSeconds: number): Promise<ActionOutcome> {
  await ctx.files.mkdir('/var/lib/sdc-guest', 0o755);
  await ctx.files.mkdir(SCRIPT_DIR, 0o700);
  const path = `${SCRIPT_DIR}/${name}`;
  await ctx.files.write(path, script, { mode: 0o700, owner: { uid: 0, gid: 0 }, secret: true });
  const file = ctx.files.hostPath(path);
  const [command, args] = script.startsWith('#!') ? [file, []] : ['/bin/sh', [file]];
  const r = await ctx.commands.run(command, args, { live: true, timeoutMs: timeoutSeconds * 1000, onOutput: logScriptLine(ctx) });
  return scriptOutcome(ctx, name, r, timeoutSeconds);
}
