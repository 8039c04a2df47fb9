import { sleep } from '../../time-limit';
import type { ActionOption, ActionOptions, ActionOutcome } from '../action';
import type { GuestContext } from '../context';
import { logScriptLine, scriptOutcome } from '../scripts';

/** Scripts live here, in a folder only root can enter: never a fixed name in a shared /tmp. */
export const SCRIPT_DIR = '/var/lib/sdc-guest/scripts';
/** The scripts `boot --scripts-later` left for `boot-scripts`, in the order they run. */
const PENDING_FILE = `${SCRIPT_DIR}/pending.json`;

/** The option with which `boot` only stages the scripts, for `sdc-guest boot-scripts` to run. */
const SCRIPTS_LATER = '--scripts-later';
export const SCRIPTS_LATER_OPTION: Record<string, ActionOption> = {
  [SCRIPTS_LATER]: { help: 'write the operator- and user-script for `sdc-guest boot-scripts` instead of running them (the systemd units do this)' },
};

interface PendingScript {
  /** The action that runs it, whose result it is. */
  action: string;
  name: string;
  timeoutSeconds: number;
}

async function writeScript(ctx: GuestContext, name: string, script: string): Promise<void> {
  await ctx.files.mkdir('/var/lib/sdc-guest', 0o755);
  await ctx.files.mkdir(SCRIPT_DIR, 0o700);
  await ctx.files.write(`${SCRIPT_DIR}/${name}`, script, { mode: 0o700, owner: { uid: 0, gid: 0 }, secret: true });
}

/** Drops `action`'s entry from the pending list (its script is gone from the metadata). */
export async function unstage(ctx: GuestContext, action: string): Promise<void> {
  const pending = await readPending(ctx);
  if (pending.some((p) => p.action === action)) await writePending(ctx, pending.filter((p) => p.action !== action));
}

export async function writePending(ctx: GuestContext, pending: PendingScript[]): Promise<void> {
  if (pending.length === 0) await ctx.files.remove(PENDING_FILE);
  else await ctx.files.write(PENDING_FILE, `${JSON.stringify(pending, null, 2)}\n`, { mode: 0o600 });
}

export async function readPending(ctx: GuestContext): Promise<PendingScript[]> {
  const text = await ctx.files.readText(PENDING_FILE);
  if (text === null) return [];
  try {
    const list = JSON.parse(text) as PendingScript[];
    return Array.isArray(list) ? list.filter((p) => typeof p.action === 'string' && /^[\w-]+$/.test(p.name) && p.timeoutSeconds > 0) : [];
  } catch {
    return [];
  }
}

/**
 * Writes a script to its private 0700 file and either runs it now or, with --scripts-later,
 * adds it to the pending list (replacing an older entry of the same action).
 */
export async function runOrStageScript(ctx: GuestContext, options: ActionOptions, action: string, name: string, script: string, timeoutSeconds: number): Promise<ActionOutcome> {
  await writeScript(ctx, name, script);
  if (options[SCRIPTS_LATER] !== true) return runStoredScript(ctx, name, timeoutSeconds, script);
  const pending = (await readPending(ctx)).filter((p) => p.action !== action);
  await writePending(ctx, [...pending, { action, name, timeoutSeconds }]);
  return { result: 'staged', detail: `${name} staged for sdc-guest boot-scripts` };
}

/**
 * Runs a script written by `runOrStageScript` (its text as `written`, else read back; with /bin/sh
 * when it has no `#!` line), bounded by `timeoutSeconds`. Its output goes to the log line by line;
 * its exit status is the outcome.
 * Scripts act on the running system, so under `--root` without `--live` they are not run.
 */
export async function runStoredScript(ctx: GuestContext, name: string, timeoutSeconds: number, written?: string): Promise<ActionOutcome> {
  await waitForNetwork(ctx);
  const file = ctx.files.hostPath(`${SCRIPT_DIR}/${name}`);
  const script = written ?? (await ctx.files.readText(`${SCRIPT_DIR}/${name}`)) ?? '';
  const [command, args] = script.startsWith('#!') ? [file, []] : ['/bin/sh', [file]];
  const r = await ctx.commands.run(command, args, { live: true, timeoutMs: timeoutSeconds * 1000, onOutput: logScriptLine(ctx) });
  return scriptOutcome(ctx, name, r, timeoutSeconds);
}

/** How long a script waits for a default route before it runs, at most. */
const NETWORK_WAIT_MS = 30_000;

/** Waits (bounded) until the guest has a default route, so that scripts find the network. */
async function waitForNetwork(ctx: GuestContext): Promise<void> {
  if (ctx.dryRun || !ctx.commands.which('ip')) return;
  const started = Date.now();
  const until = Math.min(started + NETWORK_WAIT_MS, ctx.deadline);
  for (let first = true; ; first = false) {
    const r = await ctx.commands.run('ip', ['-j', 'route', 'show', 'default'], { readOnly: true, live: true, timeoutMs: 5000, quiet: !first });
    if (r.skipped || (r.code === 0 && !['', '[]'].includes(r.stdout.trim()))) return;
    if (Date.now() + 500 > until) {
      ctx.log.warn(`no default route after ${Math.round((Date.now() - started) / 1000)} s; running the script anyway`);
      return;
    }
    if (first) ctx.log.info(`waiting up to ${Math.round((until - started) / 1000)} s for a default route`);
    await sleep(500);
  }
}
