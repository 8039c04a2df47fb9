import { basename, dirname, posix } from 'node:path';
import type { GuestContext } from '../guest/context';
import { isInstalled } from '../guest/linux/programs';
import { restartLinux } from '../guest/linux/restart';
import { hasNoUsablePassword } from '../guest/linux/root-password';
import { SCRIPT_DIR } from '../guest/linux/scripts';
import { USER_DATA_FILE } from '../guest/linux/user-data';
import { accountFields } from '../guest/linux/users';
import { STATE_FILE } from '../guest/state';
import { STRICT_WARNINGS } from '../guest/system';
import { ownership } from '../network/marker';
import { EXIT } from '../tools/run';
import { reportToImgadm, type StateReporter } from './imgadm';

/**
 * `prepare-image`: remove from a guest what must not travel into an image made from it, so every
 * instance of the image starts as a first boot with its own identity. The plan is computed first
 * (paths found under the root, commands), then either listed (dry run) or carried out.
 */

/** Our own state: without removing it, new instances would skip their first boot. The log file goes with the rest of /var/log. */
const OWN_STATE = [
  STATE_FILE,
  SCRIPT_DIR,
  USER_DATA_FILE,
  '/etc/hostid',
  // What the original tools left behind.
  '/lib/smartdc/.firstboot-complete-do-not-delete',
  '/var/tmp/user-script',
  '/var/tmp/user-script.lock',
  '/root/user-script',
  '/root/user-data',
];

const HISTORIES = ['.bash_history', '.zsh_history', '.history', '.sh_history', '.ash_history', '.python_history', '.mysql_history', '.psql_history', '.lesshst', '.viminfo', '.wget-hsts'];

/** Login records that programs expect to exist: emptied, not removed. */
const EMPTIED_LOGS = ['/var/log/wtmp', '/var/log/btmp', '/var/log/lastlog'];

const RANDOM_SEEDS = ['/var/lib/systemd/random-seed', '/var/lib/urandom/random-seed', '/var/lib/random-seed'];

const LEASE_DIRS = ['/var/lib/dhcp', '/var/lib/dhcp3', '/var/lib/dhclient', '/var/lib/NetworkManager', '/var/lib/wicked'];

const PACKAGE_CACHES = ['/var/cache/apt/archives', '/var/cache/yum', '/var/cache/dnf', '/var/cache/zypp/packages'];

/** Where network configuration lives; our own files there are removed (boot writes them again). */
const NETWORK_DIRS = ['/etc/network/interfaces.d', '/etc/netplan', '/etc/systemd/network', '/etc/NetworkManager/system-connections', '/etc/sysconfig/network-scripts', '/etc/sysconfig/network'];

const SSH_KEYGEN_UNIT = 'sdc-ssh-keygen.service';

type Action =
  | { op: 'remove'; path: string; why: string }
  | { op: 'empty'; path: string; why: string }
  | { op: 'write'; path: string; data: string; mode: number; why: string }
  | { op: 'symlink'; path: string; target: string; why: string }
  | { op: 'run'; command: string; args: string[]; why: string };

interface PreparePlan {
  actions: Action[];
  warnings: string[];
}

interface PrepareOptions {
  strict: boolean;
}

/** Whether something is at the path, a symlink itself included (never followed). */
async function exists(ctx: GuestContext, path: string): Promise<boolean> {
  return (await ctx.files.lstat(path)) !== null;
}

/** Entries of a guest folder (names, sorted); none for a symlinked folder. */
async function list(ctx: GuestContext, dir: string): Promise<string[]> {
  return (await ctx.files.lstat(dir))?.isDirectory() ? entries(ctx, dir) : [];
}

async function entries(ctx: GuestContext, dir: string): Promise<string[]> {
  return (await ctx.files.list(dir)).sort();
}

/** Every non-folder entry under `dir`, recursively, without following symlinks; each entry lstat'ed once. */
async function filesUnder(ctx: GuestContext, dir: string): Promise<string[]> {
  const walk = async (folder: string, names: string[]): Promise<string[]> => {
    const found: string[] = [];
    for (const name of names) {
      const path = posix.join(folder, name);
      if ((await ctx.files.lstat(path))?.isDirectory()) found.push(...(await walk(path, await entries(ctx, path))));
      else found.push(path);
    }
    return found;
  };
  return walk(dir, await list(ctx, dir));
}

/** A regular file's text; empty for anything else (a FIFO is never opened). */
async function regularText(ctx: GuestContext, path: string): Promise<string> {
  return (await ctx.files.lstat(path))?.isFile() ? ((await ctx.files.readText(path)) ?? '') : '';
}

/** True when root has a usable password in /etc/shadow: the rule set-rootpassword applies, the other way round. */
export function rootHasPassword(shadow: string): boolean {
  const fields = accountFields(shadow, 'root');
  return fields !== null && !hasNoUsablePassword(fields[1] ?? '');
}

/** What regenerates ssh host keys at the next boot; null when nothing does. */
async function sshKeyRegenerator(ctx: GuestContext): Promise<string | null> {
  if (await isInstalled(ctx.files, 'cloud-init')) return 'cloud-init';
  for (const unit of ['/usr/lib/systemd/system/sshd-keygen@.service', '/lib/systemd/system/sshd-keygen@.service', '/usr/lib/systemd/system/sshd-keygen.service']) {
    if (await exists(ctx, unit)) return unit;
  }
  if (await exists(ctx, `/etc/systemd/system/${SSH_KEYGEN_UNIT}`)) return `/etc/systemd/system/${SSH_KEYGEN_UNIT}`;
  return null;
}

const KEYGEN_UNIT_TEXT = `# Written by sdc-guest prepare-image: new ssh host keys at the first boot of an image.
[Unit]
Description=Generate missing ssh host keys
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service sshd.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

/** Finds everything to clean under the root. Reads only. */
async function planPrepareImage(ctx: GuestContext): Promise<PreparePlan> {
  const actions: Action[] = [];
  const warnings: string[] = [];
  const remove = (path: string, why: string) => actions.push({ op: 'remove', path, why });

  for (const path of await filesUnder(ctx, '/var/log')) {
    if (EMPTIED_LOGS.includes(path)) actions.push({ op: 'empty', path, why: 'login records' });
    else remove(path, 'log');
  }
  for (const home of ['/root', ...(await list(ctx, '/home')).map((h) => `/home/${h}`)]) {
    for (const name of HISTORIES) if (await exists(ctx, `${home}/${name}`)) remove(`${home}/${name}`, 'history');
  }
  for (const name of ['authorized_keys', 'authorized_keys2']) if (await exists(ctx, `/root/.ssh/${name}`)) remove(`/root/.ssh/${name}`, "root's keys");

  const hostKeys = (await list(ctx, '/etc/ssh')).filter((n) => /^ssh_host_.*_key(\.pub)?$/.test(n)).map((n) => `/etc/ssh/${n}`);
  if (hostKeys.length > 0) {
    let regenerator = await sshKeyRegenerator(ctx);
    if (!regenerator && (await exists(ctx, '/etc/systemd/system')) && (await isInstalled(ctx.files, 'ssh-keygen'))) {
      regenerator = `/etc/systemd/system/${SSH_KEYGEN_UNIT}`;
      actions.push({ op: 'write', path: regenerator, data: KEYGEN_UNIT_TEXT, mode: 0o644, why: 'regenerates ssh host keys at the next boot' });
      actions.push({ op: 'symlink', path: `/etc/systemd/system/multi-user.target.wants/${SSH_KEYGEN_UNIT}`, target: `../${SSH_KEYGEN_UNIT}`, why: 'enables it' });
    }
    if (regenerator) for (const key of hostKeys) remove(key, `ssh host key (regenerated by ${regenerator})`);
    else warnings.push('nothing would regenerate ssh host keys at the next boot (no cloud-init, sshd-keygen or systemd): they are kept');
  }

  for (const dir of LEASE_DIRS) {
    for (const path of await filesUnder(ctx, dir)) if (/lease|^secret_key$/.test(basename(path))) remove(path, 'DHCP lease or per-machine network secret');
  }
  for (const name of ['70-persistent-net.rules', '70-persistent-cd.rules']) if (await exists(ctx, `/etc/udev/rules.d/${name}`)) remove(`/etc/udev/rules.d/${name}`, 'udev persistent names');
  for (const dir of NETWORK_DIRS) {
    for (const path of await filesUnder(ctx, dir)) {
      const text = await regularText(ctx, path);
      const ours = ownership(text);
      if (ours === 'ours') remove(path, 'network file written by configure-network');
      else if (ours === 'edited') warnings.push(`${path} was written by configure-network and edited since: kept (remove it by hand if it names this VM's MAC addresses)`);
      else if (dir.includes('NetworkManager') && /^\s*mac-address\s*=/m.test(text)) remove(path, 'NetworkManager connection bound to a MAC address');
      else if (/\/ifcfg-(?!lo$)/.test(path) && /^\s*(HWADDR|MACADDR)\s*=/m.test(text)) remove(path, 'ifcfg bound to a MAC address');
    }
  }
  if (await exists(ctx, '/etc/machine-id')) actions.push({ op: 'empty', path: '/etc/machine-id', why: 'machine id (emptied: systemd makes a new one at the next boot)' });
  if ((await ctx.files.lstat('/var/lib/dbus/machine-id'))?.isFile()) remove('/var/lib/dbus/machine-id', 'D-Bus copy of the machine id');
  for (const path of RANDOM_SEEDS) if (await exists(ctx, path)) remove(path, 'random seed');
  for (const path of await filesUnder(ctx, '/var/lib/cloud')) remove(path, 'cloud-init state');
  for (const dir of PACKAGE_CACHES) for (const path of await filesUnder(ctx, dir)) if (!path.endsWith('/lock')) remove(path, 'package cache');
  for (const path of OWN_STATE) if (await exists(ctx, path)) remove(path, 'sdc-guest state');

  // Commands act on the running system, so they run only when the root is the running system.
  const commands: [string, string[], string][] = [
    ['cloud-init', ['clean', '--logs', '--seed'], 'cloud-init state'],
    ['apt-get', ['clean'], 'package cache'],
    ['dnf', ['clean', 'all'], 'package cache'],
    ['yum', ['clean', 'all'], 'package cache'],
    ['zypper', ['--non-interactive', 'clean', '--all'], 'package cache'],
  ];
  for (const [command, args, why] of commands) {
    if (!ctx.commands.which(command) || (command === 'yum' && ctx.commands.which('dnf'))) continue;
    if (ctx.commands.live) actions.push({ op: 'run', command, args, why });
    else ctx.log.info(`not running ${command} ${args.join(' ')}: the root is not the running system`);
  }

  if (rootHasPassword((await ctx.files.readText('/etc/shadow')) ?? '')) warnings.push('root has a password: it travels into the image');
  if (!(await isInstalled(ctx.files, 'arping'))) warnings.push('arping is not installed (gratuitous ARP after boot)');
  if (!(await isInstalled(ctx.files, 'acpid', 'qemu-ga'))) warnings.push('neither acpid nor qemu-guest-agent is installed: the VM may ignore a shutdown request');
  return { actions, warnings };
}

function describe(a: Action): string {
  switch (a.op) {
    case 'run':
      return `run: ${a.command} ${a.args.join(' ')} (${a.why})`;
    case 'symlink':
      return `link ${a.path} -> ${a.target} (${a.why})`;
    default:
      return `${a.op} ${a.path} (${a.why})`;
  }
}

async function carryOut(ctx: GuestContext, a: Action): Promise<void> {
  switch (a.op) {
    case 'remove':
      await ctx.files.remove(a.path);
      return;
    case 'empty':
      await ctx.files.write(a.path, '');
      return;
    case 'write':
      await ctx.files.mkdir(dirname(a.path), 0o755);
      await ctx.files.write(a.path, a.data, { mode: a.mode });
      return;
    case 'symlink':
      await ctx.files.link(a.path, a.target);
      return;
    case 'run': {
      const r = await ctx.commands.run(a.command, a.args, { live: true, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`${a.command} ${a.args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    }
  }
}

/** Plans, then lists (dry run) or cleans. Warnings fail only with `strict`, and then nothing is cleaned. */
export async function prepareImage(ctx: GuestContext, options: PrepareOptions): Promise<number> {
  const plan = await planPrepareImage(ctx);
  for (const w of plan.warnings) ctx.log.warn(w);
  if (options.strict && plan.warnings.length > 0) {
    ctx.log.error(`${plan.warnings.length} warning(s) and --strict: nothing cleaned`);
    return STRICT_WARNINGS;
  }
  for (const a of plan.actions) {
    if (ctx.dryRun) {
      ctx.log.info(`would ${describe(a)}`);
      continue;
    }
    await carryOut(ctx, a);
    ctx.log.info(describe(a));
  }
  return EXIT.OK;
}

/**
 * `imgadm create -s` contract (lib/image/imgadm.ts), then the guest powers off, which imgadm
 * waits for.
 */
export async function prepareImageForImgadm(ctx: GuestContext, options: PrepareOptions, reporter: StateReporter): Promise<number> {
  const code = await reportToImgadm(reporter, () => prepareImage(ctx, options));
  await restartLinux(ctx, 'poweroff');
  return code;
}
