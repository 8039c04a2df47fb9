import { reportToImgadm, type StateReporter } from '../../image/imgadm';
import { platform } from '../../platform';
import { list, psQuote } from '../../powershell-text';
import { EXIT } from '../../tools/run';
import type { ActionOptions } from '../action';
import type { GuestContext } from '../context';
import { STRICT_WARNINGS, type ImagePreparation, type RestartKind } from '../system';
import { BOOT_TASK, LOG_DIR, OPERATOR_SCRIPT, SCRIPTS_DIR, SETUP_COMPLETE, SMARTDC, STATE_DIR, SYSPREP_EXE, UNATTEND, USER_DATA, USER_SCRIPT, WINDOWS_DIR } from './paths';
import { firstError, queryPowerShell, runOwnScript } from './powershell';

/**
 * `sdc-guest.exe prepare-image`: checks, our own state removed, the boot task disabled (so it
 * cannot run during the next Windows setup; SetupComplete.cmd enables it when setup is done),
 * then sysprep /generalize /oobe with our answer file, and the VM powers off.
 */

/** Our own state and what the original tools left behind: without removing it, new instances would skip their first boot. */
const OWN_STATE = [STATE_DIR, LOG_DIR, SCRIPTS_DIR, USER_SCRIPT, OPERATOR_SCRIPT, USER_DATA, `${SMARTDC}\\tmp`, `${SMARTDC}\\prepare-image.ps1`];

/** Tasks of the original Windows tools: they run old scripts at boot, and JoyentTask holds the Administrator password. */
const OLD_TASKS = ['JoyentTask', 'Setup Networking', 'Check if preparing disk image'];

/** The answer file's placeholder that prepare-image fills with a random one-time password (replaced at first boot from administrator_pw). */
export const ONE_TIME_PASSWORD = 'SDC-GUEST-ONE-TIME-PASSWORD';
/** A placeholder a person must fill in (the samples have them as element values, and name them in comments): sysprep must never see one. */
const TO_FILL = />\s*(REPLACE-WITH-[A-Z-]+)\s*</;

const GENERALIZED = 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE';

export const FACTS_QUERY = `$task = Get-ScheduledTask -TaskName ${psQuote(BOOT_TASK)} -ErrorAction SilentlyContinue
$old = @(Get-ScheduledTask -ErrorAction SilentlyContinue | Where-Object { $_.TaskName -in @(${OLD_TASKS.map(psQuote).join(', ')}) } | ForEach-Object { [string]$_.TaskName })
$servicing = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion'
$pending = (Test-Path -LiteralPath "$servicing\\Component Based Servicing\\RebootPending") -or (Test-Path -LiteralPath "$servicing\\WindowsUpdate\\Auto Update\\RebootRequired")
$state = Get-ItemProperty -LiteralPath "$servicing\\Setup\\State" -ErrorAction SilentlyContinue
Write-SdcJson ([pscustomobject]@{ task = [bool]$task; oldTasks = $old; rebootPending = [bool]$pending; imageState = [string]$state.ImageState })
`;

export const DISABLE_TASK_SCRIPT = `# Written by sdc-guest prepare-image: the boot task waits for SetupComplete.cmd on the new instance.
$ErrorActionPreference = 'Stop'
Disable-ScheduledTask -TaskName ${psQuote(BOOT_TASK)} | Out-Null
`;

interface Facts {
  task: boolean;
  oldTasks: string[] | string | null;
  rebootPending: boolean;
  imageState: string;
}

interface Options {
  strict: boolean;
  sysprep: boolean;
  unattend: string;
}

/** A random whole number below `n` (at most 256), each equally likely: a byte that would favour the low ones is drawn again. */
function randomBelow(n: number): number {
  const limit = 256 - (256 % n);
  for (;;) {
    const byte = platform.randomBytes(1)[0];
    if (byte < limit) return byte % n;
  }
}

/** 24 characters of letters, digits and symbols (each kind present, so any complexity policy accepts it), none that XML must escape. */
export function oneTimePassword(): string {
  const kinds = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '-_.+=#%!'];
  const pick = (chars: string) => chars[randomBelow(chars.length)];
  const all = kinds.join('');
  const chars = [...kinds.map(pick), ...Array.from({ length: 20 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomBelow(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

async function readFacts(ctx: GuestContext): Promise<Facts | null> {
  return (await queryPowerShell(ctx, 'image readiness', FACTS_QUERY)) as Facts | null;
}

/** Problems that stop prepare-image before it changes anything, and warnings. */
async function check(ctx: GuestContext, options: Options, facts: Facts | null): Promise<{ blockers: string[]; warnings: string[] }> {
  const blockers: string[] = [];
  const warnings: string[] = [];
  if (facts === null) ctx.log.info('the root is not the running system: the scheduled tasks and pending reboots are not checked');
  else {
    if (!facts.task) warnings.push(`the boot task ${BOOT_TASK} is not registered (run install.bat): instances of this image would not configure themselves`);
    for (const t of list(facts.oldTasks)) warnings.push(`the old guest tools' task "${t}" is registered: remove it (schtasks /Delete /TN "${t}"), it runs old scripts and may hold the Administrator password`);
    if (options.sysprep && facts.rebootPending) blockers.push('a reboot is pending (Windows Update or an installation): sysprep would fail; reboot, then run prepare-image again');
  }
  const setupComplete = await ctx.files.readText(SETUP_COMPLETE);
  if (!setupComplete?.includes(BOOT_TASK)) warnings.push(`${SETUP_COMPLETE} ${setupComplete === null ? 'is missing' : 'is not ours'}: the boot task would stay disabled on new instances (run install.bat)`);
  if (options.sysprep) {
    if (!ctx.commands.which(ctx.files.hostPath(SYSPREP_EXE))) blockers.push(`${SYSPREP_EXE} not found`);
    const answer = await ctx.files.readText(options.unattend);
    const placeholder = answer === null ? null : TO_FILL.exec(answer);
    if (answer === null) blockers.push(`the answer file ${options.unattend} is missing (install.bat puts one there; --unattend names another)`);
    else if (placeholder) blockers.push(`the answer file ${options.unattend} still holds the placeholder ${placeholder[1]}: fill it in or remove that element`);
  }
  return { blockers, warnings };
}

/** Runs sysprep with the answer file, its one-time password filled in a copy that is removed as soon as sysprep has read it. */
async function sysprep(ctx: GuestContext, options: Options): Promise<void> {
  const answer = (await ctx.files.readText(options.unattend)) as string;
  const filled = `${options.unattend.replace(/\.xml$/i, '')}.filled.xml`;
  await ctx.files.write(filled, answer.split(`>${ONE_TIME_PASSWORD}<`).join(`>${oneTimePassword()}<`), { secret: true });
  let r;
  try {
    r = await ctx.commands.run(ctx.files.hostPath(SYSPREP_EXE), ['/generalize', '/oobe', '/quit', `/unattend:${ctx.files.hostPath(filled)}`], { live: true, timeoutMs: 30 * 60_000 });
  } finally {
    await ctx.files.remove(filled);
  }
  if (r.skipped || ctx.dryRun) return;
  const log = `${WINDOWS_DIR}\\System32\\Sysprep\\Panther\\setuperr.log`;
  const lastError = () => ctx.files.readText(log).then((t) => t?.trim().split(/\r?\n/).pop() ?? '', () => '');
  if (r.code !== 0) throw new Error(`sysprep ${r.timedOut ? 'was killed at its time limit' : `exited ${r.code}`}: ${firstError(r) || (await lastError())} (see ${log})`);
  const after = await readFacts(ctx);
  if (after && after.imageState !== GENERALIZED) throw new Error(`sysprep exited 0 but the image state is ${after.imageState || 'unknown'}, not ${GENERALIZED}: ${await lastError()} (see ${log})`);
}

/** Checks, cleans, generalizes. Returns 0, or 1 for warnings with --strict (nothing changed then); throws what stopped it. */
async function prepare(ctx: GuestContext, options: Options): Promise<number> {
  const { blockers, warnings } = await check(ctx, options, await readFacts(ctx));
  for (const w of warnings) ctx.log.warn(w);
  if (blockers.length > 0) throw new Error(blockers.join('; '));
  if (options.strict && warnings.length > 0) {
    ctx.log.error(`${warnings.length} warning(s) and --strict: nothing cleaned`);
    return STRICT_WARNINGS;
  }
  for (const path of OWN_STATE) if (await ctx.files.remove(path)) ctx.log.info(`${ctx.dryRun ? 'would remove' : 'removed'} ${path} (sdc-guest state)`);
  const r = await runOwnScript(ctx, 'prepare-image', DISABLE_TASK_SCRIPT, { timeoutMs: 60_000 });
  if (!ctx.dryRun && !r.skipped && r.code !== 0) throw new Error(`disabling the boot task failed: ${firstError(r)}`);
  // The script just written is our own state too.
  if (!ctx.dryRun) await ctx.files.remove(SCRIPTS_DIR);
  if (options.sysprep) await sysprep(ctx, options);
  return EXIT.OK;
}

export function windowsImagePreparation(restart: (ctx: GuestContext, kind: RestartKind, reason: string) => Promise<void>): ImagePreparation {
  return {
    summary: `Prepare this Windows VM for an image: checks, our own state removed, the boot task disabled until the new instance's setup is done, then sysprep /generalize /oobe with ${UNATTEND}, and power off.`,
    options: {
      '--strict': { help: 'fail (exit 1) on warnings, and then change nothing' },
      '--no-sysprep': { help: 'clean up and disable the boot task (for a sysprep of your own); no sysprep, no power-off' },
      '--unattend': { value: 'PATH', help: `the answer file for sysprep (default ${UNATTEND})` },
    },
    exitCodes: '1 warnings with --strict',
    async run(ctx: GuestContext, given: ActionOptions, imgadm: StateReporter | null): Promise<number> {
      const options: Options = { strict: given['--strict'] === true, sysprep: given['--no-sysprep'] !== true, unattend: typeof given['--unattend'] === 'string' ? given['--unattend'] : UNATTEND };
      let code: number;
      if (imgadm) code = await reportToImgadm(imgadm, () => prepare(ctx, options));
      else {
        code = await prepare(ctx, options).catch((err: Error) => {
          ctx.log.error(err.message);
          return EXIT.ERROR;
        });
      }
      if (options.sysprep && (code === EXIT.OK || imgadm)) await restart(ctx, 'poweroff', 'prepare-image');
      return code;
    },
  };
}
