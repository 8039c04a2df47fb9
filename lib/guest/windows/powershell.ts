import type { CommandResult, GuestContext, RunOptions } from '../context';
import { logScriptLine } from '../scripts';
import { SCRIPTS_DIR } from './paths';

/**
 * How the Windows actions use PowerShell, the one tool they drive the system with. Every call is
 * `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass` and goes through the guest
 * command runner (time limit, process tree killed, dry run, logging):
 *
 * - a query reads the running system and prints JSON. Its script is fixed text of ours, passed as
 *   `-EncodedCommand`, so it runs in a dry run too without writing a file;
 * - a change runs a script we generate, written first to C:\smartdc\scripts\<name>.ps1 (a dry run
 *   shows it as a diff: the plan), with `-File`;
 * - data, above all secrets, goes on stdin: never into a script, a command line or a log.
 */
const POWERSHELL = 'powershell.exe';
const POWERSHELL_FLAGS = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass'];

const BOM = '\ufeff';

/** A .ps1 file: UTF-8 with a BOM, since Windows PowerShell 5.1 reads a file without one in the ANSI code page. */
export function ps1Bytes(text: string): Buffer {
  return Buffer.from(text.startsWith(BOM) ? text : BOM + text, 'utf8');
}

/** The first line PowerShell wrote to stderr: the error itself, without its position and category lines. */
export function firstError(r: CommandResult): string {
  return r.stderr.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
}

/** Why a PowerShell command failed: killed at its limit or its exit status, then its first error line. */
export function failureText(r: CommandResult): string {
  return `${r.timedOut ? 'killed at its time limit' : `exited ${r.code}`}: ${firstError(r)}`;
}

/** Runs a .ps1 file of the guest with the flags every script gets. It acts on the running system. */
export function runPs1(ctx: GuestContext, path: string, options: RunOptions): Promise<CommandResult> {
  return ctx.commands.run(POWERSHELL, [...POWERSHELL_FLAGS, '-File', ctx.files.hostPath(path)], { live: true, ...options });
}

/** Writes one of our generated scripts to C:\smartdc\scripts\<name>.ps1 (only when it changed) and runs it; its output goes to the log. */
export async function runOwnScript(ctx: GuestContext, name: string, script: string, options: { input?: string; timeoutMs: number }): Promise<CommandResult> {
  const path = `${SCRIPTS_DIR}\\${name}.ps1`;
  await ctx.files.mkdir(SCRIPTS_DIR, 0o755);
  await ctx.files.write(path, ps1Bytes(script));
  return runPs1(ctx, path, { ...options, onOutput: logScriptLine(ctx) });
}

/** What every query starts with: stop at the first error, and JSON out in ASCII only (no code page can garble it). */
const QUERY_PRELUDE = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Write-SdcJson($Value) {
  $json = ConvertTo-Json -InputObject $Value -Depth 6 -Compress
  [Console]::Out.Write([regex]::Replace($json, '[^\\x00-\\x7f]', { param($m) '\\u{0:x4}' -f [int][char]$m.Value }))
}
`;

/** The whole text of a query as PowerShell runs it; its first line names it. */
export function queryText(what: string, script: string): string {
  return `# sdc-guest query: ${what}\n${QUERY_PRELUDE}${script}`;
}

/**
 * Runs a read-only query (also in a dry run) and returns the JSON it printed, or null when it was
 * not run because the root is not the running system. Throws with PowerShell's error otherwise.
 */
export async function queryPowerShell(ctx: GuestContext, what: string, script: string, timeoutMs = 60_000): Promise<unknown> {
  const encoded = Buffer.from(queryText(what, script), 'utf16le').toString('base64');
  ctx.log.info(`query: ${what}`);
  const r = await ctx.commands.run(POWERSHELL, [...POWERSHELL_FLAGS, '-EncodedCommand', encoded], { readOnly: true, live: true, quiet: true, timeoutMs });
  if (r.skipped) return null;
  if (r.timedOut) throw new Error(`${what}: ${POWERSHELL} killed after ${timeoutMs / 1000} s`);
  if (r.code !== 0) throw new Error(`${what}: ${POWERSHELL} exited ${r.code}: ${firstError(r)}`);
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    throw new Error(`${what}: ${POWERSHELL} printed no JSON (${r.stdout.trim() === '' ? 'nothing' : JSON.stringify(r.stdout.trim().slice(0, 60))})`);
  }
}
