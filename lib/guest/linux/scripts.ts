import type { ActionOutcome } from '../action';
import type { GuestContext } from '../context';

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
  const r = await ctx.commands.run(command, args, { live: true, timeoutMs: timeoutSeconds * 1000, onOutput: (line) => ctx.log.info(`| ${line}`) });
  if (r.skipped) return { result: 'skipped', detail: `${name} not run: the root is not the running system` };
  if (ctx.dryRun) return { result: 'ok', detail: `${name} would run` };
  if (r.timedOut) return { result: 'failed', detail: `${name} killed after ${timeoutSeconds} s (time limit)` };
  if (r.code !== 0) return { result: 'failed', detail: `${name} exited ${r.code}` };
  return { result: 'ok', detail: `${name} exited 0` };
}

/** A `--name SECONDS` option's value, or the default. */
export function secondsOption(value: string | true | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isFinite(n) || n <= 0) throw new Error(`${option} must be a number of seconds above 0`);
  return n;
}
