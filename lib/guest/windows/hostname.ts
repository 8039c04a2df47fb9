import { psQuote } from '../../powershell-text';
import { failed, ok, skipped, type GuestAction } from '../action';
import { chooseHostname, HOSTNAME_KEYS, isHostLabel } from '../hostname';
import { STATE_DIR } from './paths';
import { failureText, queryPowerShell, runOwnScript } from './powershell';

/** NetBIOS names, and so Windows computer names, hold at most 15 characters. */
const NETBIOS_MAX = 15;

/** Records the name a reboot was made for, so that a name that does not take never reboots the guest twice. */
const HOSTNAME_REBOOT_MARKER = `${STATE_DIR}\\hostname-reboot`;

/**
 * The Windows computer name for a host name: its first DNS label (Windows keeps the domain apart),
 * cut to the 15-character NetBIOS limit without a trailing hyphen, so that the DNS and NetBIOS
 * names agree. Null when the label is no valid name: letters, digits and inner hyphens, not all
 * digits (Windows refuses those).
 */
export function computerName(value: string): string | null {
  const label = value.trim().split('.')[0];
  if (!isHostLabel(label) || /^\d+$/.test(label)) return null;
  const short = label.slice(0, NETBIOS_MAX).replace(/-+$/, '');
  return /^\d+$/.test(short) ? null : short;
}

export function renameScript(name: string): string {
  return `# Written by sdc-guest set-hostname: the new computer name takes effect at the next boot.
$ErrorActionPreference = 'Stop'
Rename-Computer -NewName ${psQuote(name)} -Force -WarningAction SilentlyContinue
`;
}

export const NAME_QUERY = `$tcpip = Get-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters'
Write-SdcJson ([pscustomobject]@{ active = [string]$tcpip.Hostname; pending = [string]$tcpip.'NV Hostname' })
`;

interface Names {
  active: string;
  pending: string;
}

/**
 * The computer name from `hostname`, else `sdc:hostname`, else `sdc:uuid`. Windows applies a new
 * name at the next boot, so a rename asks `boot` for a reboot; the marker makes sure that happens
 * once per name, even if the name does not take.
 */
export const setHostnameWindows: GuestAction = {
  name: 'set-hostname',
  summary: `Set the computer name from hostname, else sdc:hostname, else sdc:uuid (first label, ${NETBIOS_MAX} characters at most); reboot once when it changed.`,
  keys: HOSTNAME_KEYS,
  once: false,
  async run(ctx) {
    const chosen = chooseHostname(ctx, 'a usable computer name', computerName);
    if (chosen === null) return skipped('no usable name in hostname, sdc:hostname or sdc:uuid');
    const { name, key, value } = chosen;
    if (name.toLowerCase() !== value.toLowerCase()) ctx.log.info(`${key} ${JSON.stringify(value)} becomes the computer name ${name} (first label, ${NETBIOS_MAX} characters at most)`);
    const names = (await queryPowerShell(ctx, 'computer name', NAME_QUERY)) as Names | null;
    if (names === null) return skipped('not run: the root is not the running system');
    const same = (a: string | undefined) => (a ?? '').toLowerCase() === name.toLowerCase();
    if (same(names.active)) {
      await ctx.files.remove(HOSTNAME_REBOOT_MARKER);
      return ok(`${name} (unchanged)`);
    }
    const rebootedFor = (await ctx.files.readText(HOSTNAME_REBOOT_MARKER))?.trim();
    if (same(rebootedFor)) return failed(`the computer name is still ${names.active} after a reboot for ${name}; not rebooting again`);
    if (!same(names.pending)) {
      const r = await runOwnScript(ctx, 'set-hostname', renameScript(name), { timeoutMs: 120_000 });
      if (!ctx.dryRun && r.code !== 0) return failed(`Rename-Computer ${name} ${failureText(r)}`);
    }
    await ctx.files.mkdir(STATE_DIR, 0o755);
    await ctx.files.write(HOSTNAME_REBOOT_MARKER, `${name}\n`);
    return { result: 'ok', detail: `${names.active} renamed to ${name} (from ${key})`, restart: { kind: 'reboot', reason: `the computer name ${name}` } };
  },
};
