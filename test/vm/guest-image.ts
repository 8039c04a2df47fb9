// A scenario's disks: the root image (the cached Debian root, our tools and the test driver, packed
// with mke2fs -d from an overlay so the cache is never written), blank and pre-filled data disks.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolNames } from '../../lib/tools/registry';
import { linuxExecutableCommand, runTool } from '../support/run-tool';
import { baseRoot, bootFiles } from './base-root';
import { removeTree, runCommand } from './host-commands';

const GUEST_FILES = join(__dirname, 'guest');
const DRIVER_DIR = 'usr/local/lib/sdc-vm-test';

/**
 * The network stacks a guest can have, each made from the one cached root by purging the other
 * stacks' packages (dpkg, in the image) and enabling what the distribution enables:
 * - ifupdown: Debian's classic stack, resolv.conf a plain file (as a DHCP install leaves it);
 * - netplan: netplan.io rendering for systemd-networkd, with systemd-resolved (Debian's cloud images);
 * - networkmanager: NetworkManager with systemd-resolved, ifupdown kept for lo (a desktop install).
 */
export type NetworkStack = 'ifupdown' | 'netplan' | 'networkmanager';

const STACKS: Record<NetworkStack, { purge: string[]; enable: string[]; resolvConf?: string }> = {
  ifupdown: { purge: ['netplan.io', 'network-manager', 'systemd-resolved'], enable: [], resolvConf: 'nameserver 10.0.2.3\n' },
  netplan: { purge: ['network-manager', 'ifupdown', 'isc-dhcp-client'], enable: ['systemd-networkd.service'] },
  networkmanager: { purge: ['netplan.io'], enable: [] },
};

async function selectStack(root: string, stack: NetworkStack): Promise<void> {
  const { purge, enable, resolvConf } = STACKS[stack];
  await runCommand('chroot', [root, 'dpkg', '--purge', ...purge], { limitMs: 120_000 });
  if (enable.length > 0) await runCommand('systemctl', [`--root=${root}`, 'enable', ...enable]);
  if (resolvConf !== undefined) writeFileSync(join(root, 'etc/resolv.conf'), resolvConf);
}

export interface GuestImage {
  rootImage: string;
  kernel: string;
  initrd: string;
}

/** Whether the multi-call executable has all these tools (the build is checked to be fresh when used). */
export async function haveTools(...names: string[]): Promise<boolean> {
  const known = await toolNames();
  return names.every((n) => known.includes(n));
}

/** Our tools as a user installs them: `sdc-guest install --root`, which also enables its units. */
async function installTools(root: string): Promise<void> {
  const r = await runTool(linuxExecutableCommand, 'sdc-guest', ['install', '--root', root], { killAfterMs: 120_000 });
  if (r.code !== 0) throw new Error(`sdc-guest install --root failed (${r.code}): ${r.stderr}`);
}

function copyInto(from: string, to: string, mode: number): void {
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** The test-only driver: a unit that runs the step named on the kernel command line, then powers off. */
function installDriver(root: string): void {
  const dir = join(root, DRIVER_DIR);
  mkdirSync(join(dir, 'steps'), { recursive: true });
  copyInto(join(GUEST_FILES, 'driver'), join(dir, 'driver'), 0o755);
  copyInto(join(GUEST_FILES, 'report.sh'), join(dir, 'report.sh'), 0o644);
  for (const step of readdirSync(join(GUEST_FILES, 'steps'))) copyInto(join(GUEST_FILES, 'steps', step), join(dir, 'steps', step), 0o755);
  copyFileSync(join(GUEST_FILES, 'sdc-vm-test.service'), join(root, 'etc/systemd/system/sdc-vm-test.service'));
  symlinkSync('/etc/systemd/system/sdc-vm-test.service', join(root, 'etc/systemd/system/multi-user.target.wants/sdc-vm-test.service'));
}

/** Builds `dir`/root.img (sparse, 2 GiB): the cached root with one network stack, our tools and the driver. */
export async function buildGuestImage(dir: string, stack: NetworkStack, log: (line: string) => void): Promise<GuestImage> {
  const base = await baseRoot(log);
  const overlay = join(dir, 'overlay');
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((d) => join(overlay, d));
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true });
  const rootImage = join(dir, 'root.img');
  const started = Date.now();
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${upper},workdir=${work}`, merged]);
  try {
    await selectStack(merged, stack);
    await installTools(merged);
    installDriver(merged);
    await runCommand('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', merged, rootImage, '2G'], { limitMs: 180_000 });
  } finally {
    await runCommand('umount', [merged]);
    await removeTree(overlay);
  }
  log(`root image packed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { rootImage, ...bootFiles(base) };
}

/** A sparse data disk with nothing on it, as a new instance's second disk. */
export function blankDisk(path: string, bytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

/** A file's bytes from an ext4 image, read with debugfs (read-only) after the guest powered off. */
export async function readImageFile(image: string, path: string): Promise<Buffer> {
  const r = await runCommand('debugfs', ['-R', `cat ${path}`, image]);
  const problems = r.stderr.split('\n').filter((line) => line && !line.startsWith('debugfs '));
  if (problems.length > 0) throw new Error(`debugfs cat ${path} in ${image}: ${problems.join('; ')}`);
  return r.stdout;
}
