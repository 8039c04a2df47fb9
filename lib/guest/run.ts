import type { ActionOptions, ActionOutcome, GuestAction } from './action';
import { GuestCommands } from './commands';
import { MetadataUnavailableError, type GuestContext, type GuestLog, type MetadataView } from './context';
import { GuestFiles, resolveInRoot } from './files';
import { ToolLog } from './log';
import { fetchMetadata, noMetadata, type FetchedMetadata } from './metadata';
import { loadState, saveState, type ActionRecord, type BootState } from './state';
import type { GuestSystem } from './system';

export interface RunSettings {
  system: GuestSystem;
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

/** A run's log (to the guest's log file, unless this is a dry run) and its files under the root. */
export async function runLogAndFiles(settings: RunSettings, scope: string): Promise<{ log: ToolLog; files: GuestFiles }> {
  const { root, dryRun, system } = settings;
  const log = new ToolLog(dryRun ? null : await resolveInRoot(root, system.logFile, false), scope);
  return { log, files: new GuestFiles({ root, dryRun, log, print: settings.print }) };
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

/** What the state says while an action that may restart the guest runs. */
export function startedRecord(): ActionRecord {
  return { at: new Date().toISOString(), result: 'started', detail: 'started; it had not ended when this was written' };
}

/** What the state keeps of an action's outcome. */
export function recordOf(outcome: ActionOutcome): ActionRecord {
  return { at: new Date().toISOString(), result: outcome.result, detail: outcome.detail };
}

/** The one line each action ends with. */
export function logOutcome(log: GuestLog, outcome: ActionOutcome): void {
  (outcome.result === 'failed' ? log.error : log.info).call(log, `${outcome.result}: ${outcome.detail}`);
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
 * `boot` mode: first-boot actions that succeeded (or started) for this instance are skipped, and
 * actions cloud-init performs are left to it when it is active. An
 * action that asks for a reboot or a power-off ends the run: the rest is left for the next boot,
 * the state is saved, then the guest restarts. A single action run by hand always runs and never
 * restarts the guest. Both record their results in the state file.
 */
export async function runGuestActions(actions: GuestAction[], settings: RunSettings, mode: 'boot' | 'single'): Promise<RunReport> {
  const { dryRun, system } = settings;
  const { log: baseLog, files } = await runLogAndFiles(settings, mode === 'boot' ? 'boot' : actions[0].name);
  // An action run alone that reads no metadata (the data disk, ARP) opens no session at all.
  const keys = actions.flatMap((a) => a.keys);
  const metadata =
    mode === 'single' && keys.length === 0 ? noMetadata() : await fetchMetadata(['sdc:uuid', ...keys], settings.budgetSeconds, settings.deadline, (line) => baseLog.info(line));
  if (metadata.problem) baseLog.warn(`metadata: ${metadata.problem}`);
  const context = (log: ToolLog) => guestContext(settings, log, files, metadata);
  const base = context(baseLog);

  let state: BootState = await loadState(files, system.stateFile);
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
  const leaveToCloudInit = mode === 'boot' && (await system.metadataAgentActive(base));
  let restart: ActionOutcome['restart'];
  const outcomes: RunReport['outcomes'] = [];
  for (const action of actions) {
    const log = baseLog.scoped(action.name);
    let outcome: ActionOutcome;
    const last = state.actions[action.name];
    if (restart) {
      outcome = { result: 'skipped', detail: `left for the next boot: ${restart.kind === 'reboot' ? 'rebooting' : 'powering off'} for ${restart.reason}` };
    } else if (mode === 'boot' && leaveToCloudInit && action.leftToCloudInit) {
      outcome = { result: 'skipped', detail: 'left to cloud-init, which is active' };
    } else if (mode === 'boot' && last?.result === 'ok' && isOnce(action, metadata)) {
      outcome = { result: 'skipped', detail: `done for this instance at ${last.at}` };
    } else if (mode === 'boot' && last?.result === 'started' && isOnce(action, metadata)) {
      outcome = { result: 'skipped', detail: `started at ${last.at} and never finished (did it restart the guest?): not run again for this instance` };
    } else {
      if (action.recordStart && !dryRun) {
        state.actions[action.name] = startedRecord();
        await saveState(files, state, system.stateFile);
      }
      outcome = await runOne(action, context(log), settings.options);
      state.actions[action.name] = recordOf(outcome);
      if (outcome.restart && mode === 'boot') restart = outcome.restart;
      else if (outcome.restart) log.warn(`${outcome.restart.reason} needs a ${outcome.restart.kind}: not done when run by hand; do it yourself`);
    }
    logOutcome(log, outcome);
    outcomes.push({ action: action.name, outcome });
  }
  if (!dryRun) await saveState(files, state, system.stateFile);
  if (restart) {
    baseLog.info(`${dryRun ? 'would ' : ''}${restart.kind === 'reboot' ? 'reboot' : 'power off'} for ${restart.reason}`);
    await system.restart(base, restart.kind, restart.reason).catch((err: Error) => baseLog.error(`${restart?.kind} failed: ${err.message}`));
  }
  return { outcomes, metadata };
}
