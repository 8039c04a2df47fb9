import type { ActionOption, GuestAction } from '../guest/action';
import { GuestCommands } from '../guest/commands';
import { GuestFiles } from '../guest/files';
import { LINUX_SYSTEM } from '../guest/linux/system';
import { guestContext, runGuestActions, type RunReport } from '../guest/run';
import { loadState } from '../guest/state';
import type { GuestSystem } from '../guest/system';
import { WINDOWS_SYSTEM } from '../guest/windows/system';
import { openMetadataSession } from '../client/session';
import { platform } from '../platform';
import { findMetadataTarget } from '../transport/detect';
import { reportFailure, writeErr } from './client-cli';
import { ToolLog } from '../guest/log';
import { MetadataUnavailableError } from '../guest/context';
import { parseGuestArgs, type GuestArgs } from './guest-cli';
import { EXIT, type ToolMain } from './run';

/** The guest system this executable runs on: its actions in boot order, its paths, its image preparation. */
export function guestSystem(): GuestSystem {
  return platform.name === 'windows' ? WINDOWS_SYSTEM : LINUX_SYSTEM;
}

function optionsOf(actions: GuestAction[]): Record<string, ActionOption> {
  return Object.assign({}, ...actions.map((a) => a.options ?? {}));
}

function settingsOf(args: GuestArgs) {
  return { ...args, system: guestSystem(), budgetSeconds: args.timeoutSeconds, print: (text: string) => void process.stdout.write(text) };
}

/** One line per action and a summary to syslog, when nothing else takes stderr to the journal. */
async function forwardToSyslog(args: GuestArgs, lines: string[]): Promise<void> {
  if (!args.live || args.dryRun || process.env.JOURNAL_STREAM) return;
  const commands = new GuestCommands({ dryRun: false, live: true, log: { info() {}, warn() {}, error() {} }, print: () => undefined });
  if (!commands.which('logger')) return;
  await commands.run('logger', ['-t', 'sdc-guest'], { input: `${lines.join('\n')}\n`, timeoutMs: 5000 }).catch(() => undefined);
}

async function finish(args: GuestArgs, what: string, report: RunReport): Promise<number> {
  const count = (result: string) => report.outcomes.filter((o) => o.outcome.result === result);
  const failures = count('failed');
  const summary = `${what}: ${count('ok').length} ok, ${failures.length} failed${failures.length ? ` (${failures.map((f) => f.action).join(', ')})` : ''}, ${count('skipped').length} skipped`;
  writeErr(`sdc-guest ${summary}`);
  await forwardToSyslog(args, [...report.outcomes.map((o) => `${o.action}: ${o.outcome.result}: ${o.outcome.detail}`), summary]);
  return failures.length ? EXIT.ERROR : EXIT.OK;
}

/** `sdc-guest <action>`: one action alone; it runs whatever the state file says. */
export function actionTool(action: GuestAction): ToolMain {
  return async (args) => {
    const parsed = parseGuestArgs(args, { name: action.name, summary: action.summary, options: action.options ?? {} });
    if (typeof parsed === 'number') return parsed;
    return finish(parsed, action.name, await runGuestActions([action], settingsOf(parsed), 'single'));
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
  return finish(parsed, 'boot', await runGuestActions(actions, settingsOf(parsed), 'boot'));
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
  const files = new GuestFiles({ root: parsed.root, dryRun: true, log: { info() {}, warn() {}, error() {} }, print: () => undefined });
  const { stateFile } = guestSystem();
  const state = await loadState(files, stateFile);
  const records = Object.entries(state.actions);
  out.push(`state: ${stateFile}${records.length ? ` (instance ${state.instance ?? 'unknown'})` : ' (no run recorded)'}`);
  for (const [name, r] of records) out.push(`  ${name.padEnd(26)} ${r.result.padEnd(8)} ${r.at}  ${r.detail}`);
  process.stdout.write(`${out.join('\n')}\n`);
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
  const noMetadata = {
    get(key: string): never {
      throw new MetadataUnavailableError(`prepare-image reads no metadata (${key})`);
    },
  };
  const ctx = guestContext(settings, log, files, noMetadata);
  if (parsed.options['--imgadm'] !== true) return preparation.run(ctx, parsed.options, null);
  let session;
  try {
    session = await openMetadataSession({ budgetSeconds: parsed.timeoutSeconds, deadline: parsed.deadline, log: (line) => log.info(line) });
  } catch (err) {
    return reportFailure(err, 'ERROR: could not initialise protocol: ');
  }
  return preparation.run(ctx, parsed.options, session);
};

const GUEST_TOOLS: Record<string, ToolMain> = { boot, status, 'prepare-image': prepareImageTool };

/** `boot`, `status`, and each action of this platform by its name. */
export function guestTool(name: string): ToolMain | null {
  if (Object.prototype.hasOwnProperty.call(GUEST_TOOLS, name)) return GUEST_TOOLS[name];
  const action = guestSystem().actions.find((a) => a.name === name);
  return action ? actionTool(action) : null;
}

export function guestToolNames(): string[] {
  return [...Object.keys(GUEST_TOOLS), ...guestSystem().actions.map((a) => a.name)];
}
