import { basename } from 'node:path';
import type { RootedFiles } from '../guest/context';
import { parseFstab, unescapeField } from './fstab';

/**
 * What the running system says about its block devices, read under the root: /sys/block, the
 * mount table and /proc/swaps. Parsing and the decisions made from it are pure functions.
 */

interface Partition {
  name: string;
  dev: string;
  holders: string[];
}

export interface BlockDevice {
  name: string;
  /** `major:minor`. */
  dev: string;
  sizeBytes: number;
  logicalBlockSize: number;
  removable: boolean;
  readOnly: boolean;
  partitions: Partition[];
  holders: string[];
  /** What a dm or md device is built on (partitions or disks). */
  slaves: string[];
  /** dm devices: their /dev/mapper name. */
  dmName: string | null;
  /** loop devices: the file behind it. */
  backingFile: string | null;
}

interface MountEntry {
  dev: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

export interface SystemView {
  devices: BlockDevice[];
  mounts: MountEntry[];
  /** Device paths (or files) in /proc/swaps. */
  swaps: string[];
}

/** /proc/self/mountinfo: `id parent major:minor root mountpoint options [optional...] - fstype source superoptions`. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 7 || dash < 6 || dash + 2 >= fields.length) continue;
    entries.push({ dev: fields[2], mountPoint: unescapeField(fields[4]), fsType: fields[dash + 1], source: unescapeField(fields[dash + 2]) });
  }
  return entries;
}

/** /proc/mounts (no device numbers): `source mountpoint fstype options 0 0`. */
function parseProcMounts(text: string): MountEntry[] {
  return parseFstab(text)
    .filter((e) => e.fsType !== '')
    .map((e) => ({ dev: '', source: e.spec, mountPoint: e.mountPoint, fsType: e.fsType }));
}

/** /proc/swaps: a header line, then `filename type size used priority`. */
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== undefined && name !== '')
    .map(unescapeField);
}

/** Whole disks that can be a data disk: virtio, Xen, SCSI/SATA, IDE and NVMe namespaces. */
const DISK_NAME = /^(vd[a-z]+|xvd[a-z]+|sd[a-z]+|hd[a-z]+|nvme\d+n\d+)$/;
const FAMILY_ORDER = ['vd', 'xvd', 'sd', 'hd', 'nvme'];

function isCandidateName(name: string): boolean {
  return DISK_NAME.test(name);
}

/** Kernel order: vdb < vdz < vdaa; nvme0n1 < nvme1n1 < nvme10n1. */
export function compareDiskNames(a: string, b: string): number {
  const family = (n: string) => FAMILY_ORDER.findIndex((f) => n.startsWith(f));
  const key = (n: string) => {
    const nvme = /^nvme(\d+)n(\d+)$/.exec(n);
    return nvme ? [Number(nvme[1]), Number(nvme[2])] : [n.length, 0];
  };
  const [fa, fb] = [family(a), family(b)];
  if (fa !== fb) return fa - fb;
  const [ka, kb] = [key(a), key(b)];
  return ka[0] - kb[0] || ka[1] - kb[1] || (a < b ? -1 : a > b ? 1 : 0);
}

/** The partition device name: `vdb` -> `vdb1`, `nvme1n1` -> `nvme1n1p1`, `loop0` -> `loop0p1`. */
export function partitionName(disk: string, index: number): string {
  return /\d$/.test(disk) ? `${disk}p${index}` : `${disk}${index}`;
}

/** The whole disk (name) that holds a device name (a disk or a partition). */
function diskOf(view: SystemView, name: string): BlockDevice | undefined {
  return view.devices.find((d) => d.name === name || d.partitions.some((p) => p.name === name));
}

/** Device name for a mount source such as `/dev/vda2` or `/dev/mapper/vg-root`; null when not a device. */
function deviceNameOfSource(view: SystemView, source: string): string | null {
  if (!source.startsWith('/dev/')) return null;
  if (source.startsWith('/dev/mapper/')) return view.devices.find((d) => d.dmName === basename(source))?.name ?? null;
  const name = basename(source);
  return diskOf(view, name) ? name : null;
}

/** The device name (disk, partition, dm, md) behind a mount entry, by device number first, then by source. */
function deviceNameOfMount(view: SystemView, mount: MountEntry): string | null {
  if (mount.dev && !mount.dev.startsWith('0:')) {
    for (const d of view.devices) {
      if (d.dev === mount.dev) return d.name;
      const part = d.partitions.find((p) => p.dev === mount.dev);
      if (part) return part.name;
    }
  }
  return deviceNameOfSource(view, mount.source);
}

/** The physical disks under a device: itself, or through dm/md slaves. */
function physicalDisks(view: SystemView, name: string, seen = new Set<string>()): string[] {
  if (seen.has(name)) return [];
  seen.add(name);
  const disk = diskOf(view, name);
  if (!disk) return [];
  if (disk.slaves.length === 0) return [disk.name];
  return disk.slaves.flatMap((s) => physicalDisks(view, s, seen));
}

/**
 * The disks that hold the mounted root file system, found from the mount table: never assumed.
 * Null when the root is on something we cannot trace to a disk (a ZFS dataset, a network file system).
 */
export function rootDisks(view: SystemView): string[] | null {
  const root = view.mounts.filter((m) => m.mountPoint === '/').pop();
  if (!root) return null;
  const name = deviceNameOfMount(view, root);
  if (!name) return null;
  const disks = physicalDisks(view, name);
  return disks.length > 0 ? disks : null;
}

/** Non-system disks that could take data, in kernel order. */
export function candidateDisks(view: SystemView, system: string[]): BlockDevice[] {
  return view.devices
    .filter((d) => isCandidateName(d.name) && !system.includes(d.name) && !d.removable && !d.readOnly && d.sizeBytes > 0)
    .sort((a, b) => compareDiskNames(a.name, b.name));
}

/** One way the running system uses a disk. */
export interface Use {
  kind: 'mounted' | 'swap' | 'held' | 'partition' | 'loop' | 'busy';
  text: string;
  /** For `mounted`: where. */
  mountPoint?: string;
}

/** How the system itself is using a disk (mounted, swap, held, partitioned); empty when it is not. */
export function systemUse(view: SystemView, disk: BlockDevice): Use[] {
  const names = [disk.name, ...disk.partitions.map((p) => p.name)];
  const uses: Use[] = [];
  for (const m of view.mounts) {
    const name = deviceNameOfMount(view, m);
    if (name && names.includes(name)) uses.push({ kind: 'mounted', text: `/dev/${name} is mounted on ${m.mountPoint}`, mountPoint: m.mountPoint });
  }
  for (const swap of view.swaps) {
    if (swap.startsWith('/dev/') && names.includes(basename(swap))) uses.push({ kind: 'swap', text: `${swap} is in use as swap` });
  }
  for (const holder of disk.holders) uses.push({ kind: 'held', text: `/dev/${disk.name} is held by ${holder}` });
  for (const p of disk.partitions) {
    uses.push({ kind: 'partition', text: `the kernel sees partition /dev/${p.name}` });
    for (const holder of p.holders) uses.push({ kind: 'held', text: `/dev/${p.name} is held by ${holder}` });
  }
  return uses;
}

/** Loop devices backed by `file` (a path as the kernel shows it). */
export function loopsBackedBy(view: SystemView, files: string[]): string[] {
  return view.devices.filter((d) => d.backingFile !== null && files.includes(d.backingFile)).map((d) => d.name);
}

/** True when something is mounted at `mountPoint`. */
export function isMountPoint(view: SystemView, mountPoint: string): boolean {
  return view.mounts.some((m) => m.mountPoint === mountPoint);
}

async function listDir(files: RootedFiles, path: string): Promise<string[]> {
  return (await files.list(path)).sort();
}

async function sysText(files: RootedFiles, path: string): Promise<string | null> {
  return (await files.readText(path))?.trim() ?? null;
}

async function readDevice(files: RootedFiles, name: string): Promise<BlockDevice> {
  const base = `/sys/block/${name}`;
  const partitions: Partition[] = [];
  for (const entry of await listDir(files, base)) {
    if ((await sysText(files, `${base}/${entry}/partition`)) === null) continue;
    partitions.push({ name: entry, dev: (await sysText(files, `${base}/${entry}/dev`)) ?? '', holders: await listDir(files, `${base}/${entry}/holders`) });
  }
  return {
    name,
    dev: (await sysText(files, `${base}/dev`)) ?? '',
    sizeBytes: Number((await sysText(files, `${base}/size`)) ?? 0) * 512,
    logicalBlockSize: Number((await sysText(files, `${base}/queue/logical_block_size`)) ?? 512) || 512,
    removable: (await sysText(files, `${base}/removable`)) === '1',
    readOnly: (await sysText(files, `${base}/ro`)) === '1',
    partitions,
    holders: await listDir(files, `${base}/holders`),
    slaves: await listDir(files, `${base}/slaves`),
    dmName: await sysText(files, `${base}/dm/name`),
    backingFile: await sysText(files, `${base}/loop/backing_file`),
  };
}

/** Reads the view under the root: /sys/block, /proc/self/mountinfo (else /proc/mounts), /proc/swaps. */
export async function readSystemView(files: RootedFiles): Promise<SystemView> {
  const devices: BlockDevice[] = [];
  for (const name of await listDir(files, '/sys/block')) devices.push(await readDevice(files, name));
  const mountinfo = await files.readText('/proc/self/mountinfo');
  const mounts = mountinfo !== null ? parseMountinfo(mountinfo) : parseProcMounts((await files.readText('/proc/mounts')) ?? '');
  return { devices, mounts, swaps: parseSwaps((await files.readText('/proc/swaps')) ?? '') };
}
