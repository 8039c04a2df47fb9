import { openMetadataSession } from '../../client/session';
import { reportImgadmError } from '../../image/imgadm';
import { skipped, type ActionOutcome, type GuestAction } from '../action';
import type { GuestContext } from '../context';
import { logScriptLine, scriptOutcome, secondsOption } from '../scripts';
import { userDataAction } from '../user-data';
import { OPERATOR_SCRIPT, USER_DATA, USER_SCRIPT } from './paths';
import { ps1Bytes, queryPowerShell, runPs1 } from './powershell';

const USER_SCRIPT_TIMEOUT = 1800;
const OPERATOR_SCRIPT_TIMEOUT = 600;
/** The budget for reading and writing prepare-image:state after an operator-script, however long it ran. */
const IMGADM_REPORT_SECONDS = 30;

/** How long `boot` waits for a default route before it runs scripts, at most. */
const NETWORK_WAIT_SECONDS = 30;

/** One query that polls for a default route (either family) inside PowerShell, up to `seconds`. */
export function routeWaitQuery(seconds: number): string {
  return `$until = (Get-Date).AddSeconds(${seconds})
do {
  $route = Get-NetRoute -DestinationPrefix '0.0.0.0/0', '::/0' -ErrorAction SilentlyContinue | Select-Object -First 1
  if ($route -or (Get-Date) -ge $until) { break }
  Start-Sleep -Milliseconds 500
} while ($true)
Write-SdcJson ([pscustomobject]@{ route = [bool]$route })
`;
}

async function waitForNetwork(ctx: GuestContext): Promise<void> {
  const seconds = Math.max(0, Math.min(NETWORK_WAIT_SECONDS, Math.floor((ctx.deadline - Date.now()) / 1000)));
  try {
    const found = (await queryPowerShell(ctx, 'default route', routeWaitQuery(seconds), (seconds + 30) * 1000)) as { route?: boolean } | null;
    if (found && !found.route) ctx.log.warn(`no default route after ${seconds} s; running the scripts anyway`);
  } catch (err) {
    ctx.log.warn(`${(err as Error).message}; running the scripts anyway`);
  }
}

/**
 * Writes a script from the metadata to its .ps1 file (UTF-8 with a BOM, so PowerShell reads it as
 * UTF-8; the content exactly as given, so multi-line scripts and quotes work) and runs it with
 * `-File`, bounded in time; its output goes to the log. A missing key removes a stale file.
 */
async function runMetadataScript(ctx: GuestContext, name: string, path: string, script: string | null, timeoutSeconds: number): Promise<ActionOutcome> {
  if (script === null) {
    await ctx.files.remove(path);
    return skipped(`no ${name} in the metadata`);
  }
  await ctx.files.write(path, ps1Bytes(script), { secret: true });
  if (!ctx.dryRun) await waitForNetwork(ctx);
  const r = await runPs1(ctx, path, { timeoutMs: timeoutSeconds * 1000, onOutput: logScriptLine(ctx) });
  return scriptOutcome(ctx, name, r, timeoutSeconds);
}

export const runUserScriptWindows: GuestAction = {
  name: 'run-user-script',
  summary: `Run user-script as ${USER_SCRIPT} with PowerShell on every boot.`,
  keys: ['user-script'],
  once: false,
  options: { '--user-script-timeout': { value: 'SECONDS', help: `time limit for the user-script (default ${USER_SCRIPT_TIMEOUT})` } },
  run(ctx, options) {
    const limit = secondsOption(options['--user-script-timeout'], USER_SCRIPT_TIMEOUT, '--user-script-timeout');
    return runMetadataScript(ctx, 'user-script', USER_SCRIPT, ctx.metadata.get('user-script'), limit);
  },
};

/** imgadm's prepare-image scripts report through prepare-image:state: one that never names that key is an ordinary script. */
const isImgadmScript = (script: string) => script.includes('prepare-image:state');

/**
 * After imgadm's prepare-image script: a script that died before it reported `success` or `error`
 * (a crash, its time limit) leaves imgadm waiting, so the error is reported for it.
 */
async function completeImgadmState(ctx: GuestContext, outcome: ActionOutcome): Promise<string> {
  let session;
  try {
    session = await openMetadataSession({ budgetSeconds: IMGADM_REPORT_SECONDS, log: (line) => ctx.log.info(line) });
  } catch (err) {
    return `prepare-image:state not checked (${(err as Error).message})`;
  }
  try {
    const state = await session.get('prepare-image:state');
    if (state === 'success' || state === 'error') return `prepare-image:state ${state}`;
    await reportImgadmError(session, `the operator-script ended without reporting success or error: ${outcome.detail}`);
    return `prepare-image:state was ${state ?? 'not set'}: error reported`;
  } catch (err) {
    return `prepare-image:state not checked (${(err as Error).message})`;
  } finally {
    await session.close();
  }
}

/**
 * `sdc:operator-script` on every boot, before the user-script. imgadm's prepare-image script
 * (imgadm create -s) reports its own state with mdata-put.exe; afterwards the state is made final
 * and the guest powers off, as imgadm expects.
 */
export const runOperatorScriptWindows: GuestAction = {
  name: 'run-operator-script',
  summary: `Run sdc:operator-script as ${OPERATOR_SCRIPT} with PowerShell on every boot; after imgadm's prepare-image script, power off.`,
  keys: ['sdc:operator-script'],
  once: false,
  options: { '--operator-script-timeout': { value: 'SECONDS', help: `time limit for the operator-script (default ${OPERATOR_SCRIPT_TIMEOUT})` } },
  async run(ctx, options) {
    const limit = secondsOption(options['--operator-script-timeout'], OPERATOR_SCRIPT_TIMEOUT, '--operator-script-timeout');
    const script = ctx.metadata.get('sdc:operator-script');
    const outcome = await runMetadataScript(ctx, 'operator-script', OPERATOR_SCRIPT, script, limit);
    if (script === null || !isImgadmScript(script) || outcome.result === 'skipped') return outcome;
    const report = ctx.dryRun ? 'prepare-image:state would be checked' : await completeImgadmState(ctx, outcome);
    return { ...outcome, detail: `${outcome.detail}; ${report}`, restart: { kind: 'poweroff', reason: "imgadm's prepare-image" } };
  },
};

export const getUserDataWindows = userDataAction(USER_DATA, {}, 'SYSTEM and Administrators only');
