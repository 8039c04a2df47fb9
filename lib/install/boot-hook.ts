import type { CommandRunner } from '../guest/context';
import type { InstallContext } from './install';
import type { Entry } from './manifest';
import type { InstallTree } from './tree';

/** Where the executable goes; every other name (mdata-get, /lib/smartdc/...) is a link to it. */
export const SDC_GUEST = '/usr/sbin/sdc-guest';

/**
 * Two units, because a script may start services that wait for the network (`apt-get install
 * nginx` starts nginx, which is ordered after network-online.target): `sdc-guest.service` runs
 * `boot` before network-online.target, reading the metadata over one session, configuring the
 * network and staging the scripts; `sdc-guest-scripts.service` runs them after that target.
 * Each time limit is longer than every bound inside its command together (docs/install.md).
 */
interface Unit {
  name: string;
  file: string;
  text: string;
}

const unitFile = (name: string) => `/etc/systemd/system/${name}`;

function unit(name: string, description: string, order: string[], exec: string, timeoutSeconds: number): Unit {
  const text = [
    '# Made by sdc-guest install; sdc-guest uninstall removes it. See sdc-guest(8).',
    '[Unit]',
    `Description=${description}`,
    'Documentation=man:sdc-guest(8)',
    ...order,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${SDC_GUEST} ${exec}`,
    `TimeoutStartSec=${timeoutSeconds}`,
    'StandardOutput=journal+console',
    'StandardError=journal+console',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return { name, file: unitFile(name), text };
}

/** The metadata budget 60 s and about ten commands of at most 65 s each, with room for the network and the data disk. */
export const BOOT_TIMEOUT_SECONDS = 1200;
/** The network wait 30 s, the operator-script 600 s and the user-script 1800 s, each plus 5 s to kill. */
export const SCRIPTS_TIMEOUT_SECONDS = 2700;

export const UNITS: Unit[] = [
  unit('sdc-guest.service', 'Apply the SmartOS/Triton instance metadata (sdc-guest boot)', ['After=local-fs.target network.target', 'Before=network-online.target'], 'boot --scripts-later', BOOT_TIMEOUT_SECONDS),
  unit('sdc-guest-scripts.service', 'Run the instance operator-script and user-script (sdc-guest boot-scripts)', ['After=network-online.target sdc-guest.service', 'Wants=network-online.target'], 'boot-scripts', SCRIPTS_TIMEOUT_SECONDS),
];

/** The link `systemctl enable` makes for `WantedBy=multi-user.target`. */
const wantsLink = (name: string) => `/etc/systemd/system/multi-user.target.wants/${name}`;

/** Our rc.local line: a failing boot must not end an rc.local that runs under `sh -e`. */
export const RC_LINE = `${SDC_GUEST} boot || true  # sdc-guest: apply the instance metadata (sdc-guest uninstall removes this line)`;

/** A top-level `exit`: the script ends there, so our line goes before it. */
const TOP_LEVEL_EXIT = /^exit(\s+\d+)?\s*(#.*)?$/;

/** rc.local with our line: before its first top-level `exit`, else at the end; a new file gets a shebang. */
export function withBootLine(text: string | null): string {
  if (text === null || text.trim() === '') return `#!/bin/sh\n${RC_LINE}\n`;
  const lines = text.split('\n');
  const exitAt = lines.findIndex((l) => TOP_LEVEL_EXIT.test(l));
  if (exitAt !== -1) {
    lines.splice(exitAt, 0, RC_LINE);
    return lines.join('\n');
  }
  return `${text}${text.endsWith('\n') ? '' : '\n'}${RC_LINE}\n`;
}

export type InitSystem = { kind: 'systemd'; booted: boolean } | { kind: 'rc.local'; file: string };

/** systemd when the root has it (or runs it), else the rc.local that the root's init runs (Red Hat's lives in /etc/rc.d). */
export async function initSystemOf({ files, commands }: InstallContext): Promise<InitSystem> {
  const booted = commands.live && (await files.stat('/run/systemd/system'))?.isDirectory() === true;
  if (booted || (await files.stat('/usr/lib/systemd/systemd')) || (await files.stat('/lib/systemd/systemd'))) return { kind: 'systemd', booted };
  const redHat = (await files.stat('/etc/redhat-release')) || (await files.stat('/etc/rc.d/rc.local'));
  return { kind: 'rc.local', file: redHat ? '/etc/rc.d/rc.local' : '/etc/rc.local' };
}

function systemctlArgs(root: string, verb: string, unit: string): string[] {
  return root === '/' ? [verb, unit] : [`--root=${root}`, verb, unit];
}

async function systemctl(commands: CommandRunner, args: string[], live = false): Promise<void> {
  const r = await commands.run('systemctl', args, { live });
  if (r.code !== 0) throw new Error(`systemctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
}

/** Makes `sdc-guest boot` run at every boot: the unit, enabled; or our line in rc.local. */
export async function installBootHook(tree: InstallTree, { files, commands, root }: InstallContext, init: InitSystem): Promise<string> {
  if (init.kind === 'rc.local') {
    await tree.editFile(init.file, RC_LINE, withBootLine, (mode) => (mode === null ? 0o755 : mode | 0o100));
    return `${init.file} runs sdc-guest boot`;
  }
  for (const u of UNITS) await tree.putFile(u.file, u.text, 0o644);
  if (init.booted) await systemctl(commands, ['daemon-reload'], true);
  for (const u of UNITS) {
    // A link that was there before is not ours to remove.
    if (tree.has(wantsLink(u.name)) || !(await files.lstat(wantsLink(u.name)))) tree.record({ kind: 'enabled', path: wantsLink(u.name), unit: u.name });
    await systemctl(commands, systemctlArgs(root, 'enable', u.name));
  }
  return `${UNITS.map((u) => u.name).join(' and ')} enabled`;
}

/** Takes an `enabled` entry back: `systemctl disable`, when the link is still there. */
export async function disableUnit({ files, commands, root }: InstallContext, entry: Entry & { kind: 'enabled' }): Promise<void> {
  if (!(await files.lstat(entry.path))) return;
  await systemctl(commands, systemctlArgs(root, 'disable', entry.unit));
}
