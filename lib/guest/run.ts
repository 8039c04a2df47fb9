import type { ActionOptions, ActionOutcome, GuestAction } from './action';
import { GuestCommands } from './commands';
import { MetadataUnavailableError, type GuestContext, type GuestLog, type MetadataView } from './context';
import { GuestFiles, hostPath } from './files';
import { LOG_FILE, ToolLog } from './log';
import { fetchMetadata, type FetchedMetadata } from './metadata';
import { loadState, saveState, type BootState } from './state';

export interface RunSettings {
  root: string;
  dryRun: boolean;
  /** Commands that act on the running system run (true when the root is `/`). */
  live: boolean;
  budgetSeconds: number;
  deadline: number;
  options: ActionOptions;
  /** Where a dry run's plan goes (stdout). */
  print: (text: string) => void;
}

/** The context an action runs in, with `log` as its log. */
export function guestContext(settings: RunSettings, log: GuestLog, files: GuestFiles, metadata: MetadataView): GuestContext {
  const { root, dryRun } = settings;
  return { root, dryRun, deadline: settings.deadline, log, files, commands: new GuestCommands({ dryRun, log, print: settings.print, live: settings.live }), metadata };
}

export interface RunReport {
  outcomes: Array<{ action: string; outcome: ActionOutcome }>;
  metadata: FetchedMetadata;
}

/** cloud-init is installed and not disabled: it applies its own share of the metadata. */
async function cloudInitActive(ctx: GuestContext): Promise<boolean> {
  const [binary, disabled, cmdline] = await Promise.all([ctx.files.read('/usr/bin/cloud-init'), ctx.files.read('/etc/cloud/cloud-init.disabled'), ctx.files.readText('/proc/cmdline')]);
  return binary !== null && disabled === null && !/(^|\s)cloud-init=disabled(\s|$)/.test(cmdline ?? '');
}

async function runOne(action: GuestAction, ctx: GuestContext, options: ActionOptions): Promise<ActionOutcome> {
  try {
    return await action.run(ctx, options);
  } catch (err) {
    if (err instanceof MetadataUnavailableError) return { result: 'failed', detail: `metadata unavailable: ${err.message}` };
    return { result: 'failed', detail: err instanceof Error ? err.message : String(err) };
  }
}

function isOnce(action: GuestAction, metadata: FetchedMetadata): boolean {
  if (typeof action.once === 'boolean') return action.once;
  try {
    return action.once(metadata);
  } catch {
    return true;
  }
}

/**
 * Runs `actions` in order, in one process: the metadata they read is fetched over one session at
 * the start, and the session is closed before anything runs, so scripts can use the metadata
 * service themselves. One failing action never stops the others.
 *
 * `boot` mode: first-boot actions that succeeded for this instance are skipped, and actions
 * cloud-init performs are left to it when it is active. A single action run by hand always runs.
 * Both record their results in the state file.
 */
export async function runGuestActions(actions: GuestAction[], settings: RunSettings, mode: 'boot' | 'single'): Promise<RunReport> {
  const { root, dryRun } = settings;
  const baseLog = new ToolLog(dryRun ? null : hostPath(root, LOG_FILE), mode === 'boot' ? 'boot' : actions[0].name);
  const files = new GuestFiles({ root, dryRun, log: baseLog, print: settings.print });
  const metadata = await fetchMetadata(['sdc:uuid', ...actions.flatMap((a) => a.keys)], settings.budgetSeconds, settings.deadline, (line) => baseLog.info(line));
  if (metadata.problem) baseLog.warn(`metadata: ${metadata.problem}`);
  const context = (log: ToolLog) => guestContext(settings, log, files, metadata);
  const base = context(baseLog);

  let state: BootState = await loadState(files);
  let uuid: string | null = null;
  try {
    uuid = metadata.get('sdc:uuid');
  } catch {
    // unknown instance: records stay as they are
  }
  if (uuid !== null && uuid !== state.instance) {
    if (state.instance !== null) baseLog.info(`new instance ${uuid} (was ${state.instance}): first-boot actions run again`);
    state = { instance: uuid, actions: {} };
  }
  const leaveToCloudInit = mode === 'boot' && (await cloudInitActive(base));
  const outcomes: RunReport['outcomes'] = [];
  for (const action of actions) {
    const log = baseLog.scoped(action.name);
    let outcome: ActionOutcome;
    const last = state.actions[action.name];
    if (mode === 'boot' && leaveToCloudInit && action.leftToCloudInit) {
      outcome = { result: 'skipped', detail: 'left to cloud-init, which is active' };
    } else if (mode === 'boot' && last?.result === 'ok' && isOnce(action, metadata)) {
      outcome = { result: 'skipped', detail: `done for this instance at ${last.at}` };
    } else {
      outcome = await runOne(action, context(log), settings.options);
      state.actions[action.name] = { at: new Date().toISOString(), result: outcome.result, detail: outcome.detail };
    }
    (outcome.result === 'failed' ? log.error : log.info).call(log, `${outcome.result}: ${outcome.detail}`);
    outcomes.push({ action: action.name, outcome });
  }
  if (!dryRun) await saveState(files, state);
  return { outcomes, metadata };
}
