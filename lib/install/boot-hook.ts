import type { CommandRunner } from '../guest/context';
import type { Entry } from './manifest';
import type { InstallTree } from './tree';

/** Where the executable goes; every other name (mdata-get, /lib/smartdc/...) is a link to it. */
export const SDC_GUEST = '/usr/sbin/sdc-guest';

export const UNIT_NAME = 'sdc-guest.service';
export const UNIT_FILE = `/etc/systemd/system/${UNIT_NAME}`;
/** The link `systemctl enable` makes for `WantedBy=multi-user.target`. */
const WANTS_LINK = `/etc/systemd/system/multi-user.target.wants/${UNIT_NAME}`;

/**
 * Longer than every bound inside `sdc-guest boot` together (docs/install.md has the sum): the
 * metadata budget 60 s, the network wait 30 s, the operator-script 600 s and the user-script
 * 1800 s (each plus 5 s to kill), and about ten other commands of at most 65 s each: 3150 s.
 */
export const TIMEOUT_START_SECONDS = 3600;

export function unitText(): string {
  return [
    '# Made by sdc-guest install; sdc-guest uninstall removes it. See sdc-guest(8).',
    '[Unit]',
    'Description=Apply the SmartOS/Triton instance metadata (sdc-guest boot)',
    'Documentation=man:sdc-guest(8)',
    'After=local-fs.target network.target',
    'Before=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${SDC_GUEST} boot`,
    `TimeoutStartSec=${TIMEOUT_START_SECONDS}`,
    'StandardOutput=journal+console',
    'StandardError=journal+console',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

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
export async function initSystemOf(tree: InstallTree, live: boolean): Promise<InitSystem> {
  const booted = live && (await tree.stat('/run/systemd/system'))?.isDirectory() === true;
  if (booted || (await tree.stat('/usr/lib/systemd/systemd')) || (await tree.stat('/lib/systemd/systemd'))) return { kind: 'systemd', booted };
  const redHat = (await tree.stat('/etc/redhat-release')) || (await tree.stat('/etc/rc.d/rc.local'));
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
export async function installBootHook(tree: InstallTree, commands: CommandRunner, root: string, init: InitSystem): Promise<string> {
  if (init.kind === 'rc.local') {
    await tree.editFile(init.file, RC_LINE, withBootLine, (mode) => (mode === null ? 0o755 : mode | 0o100));
    return `${init.file} runs sdc-guest boot`;
  }
  await tree.putFile(UNIT_FILE, unitText(), 0o644);
  if (init.booted) await systemctl(commands, ['daemon-reload'], true);
  // A link that was there before is not ours to remove.
  if (tree.has(WANTS_LINK) || !(await tree.lstat(WANTS_LINK))) tree.record({ kind: 'enabled', path: WANTS_LINK, unit: UNIT_NAME });
  await systemctl(commands, systemctlArgs(root, 'enable', UNIT_NAME));
  return `${UNIT_NAME} enabled`;
}

/** Takes an `enabled` entry back: `systemctl disable`, when the link is still there. */
export async function disableUnit(tree: InstallTree, commands: CommandRunner, root: string, entry: Entry & { kind: 'enabled' }): Promise<void> {
  if (!(await tree.lstat(entry.path))) return;
  await systemctl(commands, systemctlArgs(root, 'disable', entry.unit));
}
