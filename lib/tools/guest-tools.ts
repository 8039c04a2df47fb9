import type { ActionOption, GuestAction } from '../guest/action';
import { GuestCommands } from '../guest/commands';
import { GuestFiles } from '../guest/files';
import { LINUX_SYSTEM } from '../guest/linux/system';
import { noMetadata } from '../guest/metadata';
import { guestContext, logOutcome, recordOf, runGuestActions, runLogAndFiles, startedRecord, type RunReport } from '../guest/run';
import { readPending, runStoredScript, writePending } from '../guest/linux/scripts';
import { loadState, saveState, type ActionRecord } from '../guest/state';
import type { GuestSystem } from '../guest/system';
import { WINDOWS_SYSTEM } from '../guest/windows/system';
import { installTool, uninstallTool } from '../install/tool';
import { openMetadataSession } from '../client/session';
import { platform } from '../platform';
import { findMetadataTarget } from '../transport/detect';
import { reportFailure, writeErr } from './client-cli';
import { ToolLog } from '../guest/log';
import { parseGuestArgs, type GuestArgs } from './guest-cli';
import { EXIT, writeStdout, type ToolMain } from './run';

/** The guest system this executable runs on: its actions in boot order, its paths, its image preparation. */
function guestSystem(): GuestSystem {
  return platform.name === 'windows' ? WINDOWS_SYSTEM : LINUX_SYSTEM;
}

const QUIET_LOG = { info() {}, warn() {}, error() {} };

function optionsOf(actions: GuestAction[]): Record<string, ActionOption> {
  return Object.assign({}, ...actions.map((a) => a.options ?? {}));
}

function settingsOf(args: GuestArgs) {
  return { ...args, system: guestSystem(), budgetSeconds: args.timeoutSeconds, print: writeStdout };
}

/** One line per action and a summary to syslog, when nothing else takes stderr to the journal. */
async function forwardToSyslog(args: GuestArgs, lines: string[]): Promise<void> {
  if (!args.live || args.dryRun || process.env.JOURNAL_STREAM) return;
  const commands = new GuestCommands({ dryRun: false, live: true, log: QUIET_LOG, print: () => undefined });
  if (!commands.which('logger')) return;
  await commands.run('logger', ['-t', 'sdc-guest'], { input: `${lines.join('\n')}\n`, timeoutMs: 5000 }).catch(() => undefined);
}

async function finish(args: GuestArgs, what: string, outcomes: RunReport['outcomes']): Promise<number> {
  const count = (result: string) => outcomes.filter((o) => o.outcome.result === result);
  const failures = count('failed');
  const staged = count('staged').length;
  const summary = `${what}: ${count('ok').length} ok, ${failures.length} failed${failures.length ? ` (${failures.map((f) => f.action).join(', ')})` : ''}, ${count('skipped').length} skipped${staged ? `, ${staged} staged for boot-scripts` : ''}`;
  writeErr(`sdc-guest ${summary}`);
  await forwardToSyslog(args, [...outcomes.map((o) => `${o.action}: ${o.outcome.result}: ${o.outcome.detail}`), summary]);
  return failures.length ? EXIT.ERROR : EXIT.OK;
}

/** `sdc-guest <action>`: one action alone; it runs whatever the state file says. */
function actionTool(action: GuestAction): ToolMain {
  return async (args) => {
    const parsed = parseGuestArgs(args, { name: action.name, summary: action.summary, options: action.options ?? {} });
    if (typeof parsed === 'number') return parsed;
    return finish(parsed, action.name, (await runGuestActions([action], settingsOf(parsed), 'single')).outcomes);
  };
}

const boot: ToolMain = async (args) => {
  const { actions } = guestSystem();
  const parsed = parseGuestArgs(args, {
    name: 'boot',
    summary: `Apply the metadata at boot: ${actions.map((a) => a.name).join(', ')}, in this order, over one metadata session.`,
    options: optionsOf(actions),
  });
  if (typeof parsed === 'number') return parsed;
  return finish(parsed, 'boot', (await runGuestActions(actions, settingsOf(parsed), 'boot')).outcomes);
};

const status: ToolMain = async (args) => {
  const parsed = parseGuestArgs(args, { name: 'status', summary: 'Show the platform, the metadata service, the instance and the last results.', options: {} });
  if (typeof parsed === 'number') return parsed;
  const out: string[] = [`platform: ${platform.name}`];
  let code: number = EXIT.OK;
  try {
    const target = findMetadataTarget();
    out.push(`transport: ${target.kind} ${target.path}`);
    const session = await openMetadataSession({ budgetSeconds: parsed.timeoutSeconds, deadline: parsed.deadline, target });
    try {
      out.push(`protocol: V${session.protocolVersion}`, `instance: ${(await session.get('sdc:uuid')) ?? '(no sdc:uuid)'}`);
    } finally {
      await session.close();
    }
  } catch (err) {
    out.push(`metadata service: unavailable: ${err instanceof Error ? err.message : String(err)}`);
    code = EXIT.ERROR;
  }
  const files = new GuestFiles({ root: parsed.root, dryRun: true, log: QUIET_LOG, print: () => undefined });
  const { stateFile } = guestSystem();
  const state = await loadState(files, stateFile);
  const records = Object.entries(state.actions);
  out.push(`state: ${stateFile}${records.length ? ` (instance ${state.instance ?? 'unknown'})` : ' (no run recorded)'}`);
  for (const [name, r] of records) out.push(`  ${name.padEnd(26)} ${r.result.padEnd(8)} ${r.at}  ${r.detail}`);
  writeStdout(`${out.join('\n')}\n`);
  return code;
};

/**
 * `prepare-image`: not a boot step, and each system's own. It logs to stderr only: its log file is
 * among what it removes. With --imgadm it reports its state through a metadata session, then
 * powers off.
 */
const prepareImageTool: ToolMain = async (args) => {
  const preparation = guestSystem().imagePreparation;
  const parsed = parseGuestArgs(args, {
    name: 'prepare-image',
    summary: preparation.summary,
    options: { ...preparation.options, '--imgadm': { help: "imgadm create's contract: report prepare-image:state through the metadata service, then power off" } },
    exitCodes: preparation.exitCodes,
  });
  if (typeof parsed === 'number') return parsed;
  const settings = settingsOf(parsed);
  const log = new ToolLog(null, 'prepare-image');
  const files = new GuestFiles({ root: parsed.root, dryRun: parsed.dryRun, log, print: settings.print });
  const ctx = guestContext(settings, log, files, noMetadata());
  if (parsed.options['--imgadm'] !== true) return preparation.run(ctx, parsed.options, null);
  let session;
  try {
    session = await openMetadataSession({ budgetSeconds: parsed.timeoutSeconds, deadline: parsed.deadline, log: (line) => log.info(line) });
  } catch (err) {
    return reportFailure(err, 'ERROR: could not initialise protocol: ');
  }
  return preparation.run(ctx, parsed.options, session);
};

/**
 * `sdc-guest boot-scripts`: runs the scripts that `boot --scripts-later` staged, in order, with no
 * metadata session. Its systemd unit runs after network-online.target, so a script may start
 * services that wait for the network; `boot` itself runs before that target.
 */
const bootScripts: ToolMain = async (args) => {
  const parsed = parseGuestArgs(args, { name: 'boot-scripts', summary: 'Run the operator- and user-script that `sdc-guest boot --scripts-later` staged.', options: {} });
  if (typeof parsed === 'number') return parsed;
  const settings = settingsOf(parsed);
  const { log: baseLog, files } = await runLogAndFiles(settings, 'boot-scripts');
  const pending = await readPending(guestContext(settings, baseLog, files, noMetadata()));
  // Read afresh for every record: a script may run sdc-guest itself, which records too.
  const record = async (action: string, entry: ActionRecord) => {
    const state = await loadState(files, settings.system.stateFile);
    state.actions[action] = entry;
    await saveState(files, state, settings.system.stateFile);
  };
  const outcomes: RunReport['outcomes'] = [];
  for (const [i, script] of pending.entries()) {
    const log = baseLog.scoped(script.action);
    const ctx = guestContext(settings, log, files, noMetadata());
    // Off the list, and recorded as started, before it runs: a script that restarts the guest
    // is not run again (the next boot skips a once-per-instance script left `started`).
    if (!parsed.dryRun) {
      await writePending(ctx, pending.slice(i + 1));
      await record(script.action, startedRecord());
    }
    const outcome = await runStoredScript(ctx, script.name, script.timeoutSeconds);
    logOutcome(log, outcome);
    outcomes.push({ action: script.action, outcome });
    if (!parsed.dryRun) await record(script.action, recordOf(outcome));
  }
  return finish(parsed, 'boot-scripts', outcomes);
};

/** The tools of every system; Linux also stages its scripts for a later unit, and installs itself. */
const GUEST_TOOLS: Record<string, ToolMain> = { boot, status, 'prepare-image': prepareImageTool };
const LINUX_TOOLS: Record<string, ToolMain> = { 'boot-scripts': bootScripts, install: installTool(() => guestToolNames()), uninstall: uninstallTool };

function systemTools(): Record<string, ToolMain> {
  return guestSystem().name === 'linux' ? { ...GUEST_TOOLS, ...LINUX_TOOLS } : GUEST_TOOLS;
}

/** `boot`, `status`, `install`, `uninstall`, and each action of this platform by its name. */
export function guestTool(name: string): ToolMain | null {
  const tools = systemTools();
  if (Object.hasOwn(tools, name)) return tools[name];
  const action = guestSystem().actions.find((a) => a.name === name);
  return action ? actionTool(action) : null;
}

export function guestToolNames(): string[] {
  return [...Object.keys(systemTools()), ...guestSystem().actions.map((a) => a.name)];
}
