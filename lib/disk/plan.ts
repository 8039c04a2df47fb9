import { DATA_LABEL, LINUX_FS_TYPE, PARTITION_OFFSET, type BlankDisk } from './assess';
import type { FstabEntry } from './fstab';

/**
 * The data-disk plan as data: the exact commands, checks and file changes, computed before
 * anything runs, so a dry run prints what a real run does.
 */

export type FsType = 'ext4' | 'xfs';

export type Step =
  /** `live`: it acts on the running system, not only on the disk (under --root it runs with --live only). */
  | { kind: 'run'; command: string; args: string[]; input?: string; timeoutMs: number; live?: boolean }
  /** Re-read the disk: the table is exactly the planned one and the partition is still blank. */
  | { kind: 'check-table' }
  /** Re-read the disk: our file system with the planned UUID is there. */
  | { kind: 'check-fs'; uuid: string }
  | { kind: 'mkdir'; path: string }
  | { kind: 'fstab'; entry: FstabEntry };

export interface Layout {
  startLba: number;
  sizeLba: number;
  /** The partition's byte range on the disk. */
  offset: number;
  bytes: number;
}

export interface Target {
  fs: FsType;
  /** Guest path, for fstab. */
  mountPoint: string;
  /** Host path, for mount. */
  hostMountPoint: string;
  uuid: string;
  /** Host path of the partition's device node (block devices); null for an image file. */
  hostPartition: string | null;
  haveUdevadm: boolean;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Smallest disks we format: mkfs.xfs wants 300 MiB; ext4 on less is of no use as a data disk. */
const MIN_BYTES: Record<FsType, number> = { ext4: 64 * MiB, xfs: 320 * MiB };
const DEVICE_TIMEOUT = '30s';

/** One GPT partition from 1 MiB to the last whole MiB before the backup table. */
export function layoutFor(diskBytes: number, sectorSize: number): Layout {
  const sectors = Math.floor(diskBytes / sectorSize);
  const entrySectors = Math.ceil((128 * 128) / sectorSize);
  const lastUsable = sectors - 2 - entrySectors;
  const grain = MiB / sectorSize;
  const startLba = PARTITION_OFFSET / sectorSize;
  const endExclusive = Math.floor((lastUsable + 1) / grain) * grain;
  const sizeLba = endExclusive - startLba;
  return { startLba, sizeLba, offset: startLba * sectorSize, bytes: sizeLba * sectorSize };
}

/** Reserved blocks, as the original tools scaled them: smaller share on bigger disks. */
export function reservedPercent(bytes: number): string {
  if (bytes <= 15 * GiB) return '0.5';
  if (bytes <= 30 * GiB) return '0.25';
  if (bytes <= 100 * GiB) return '0.1';
  if (bytes <= 200 * GiB) return '0.05';
  return '0.02';
}

export function fstabEntry(target: Pick<Target, 'fs' | 'mountPoint' | 'uuid'>): FstabEntry {
  return {
    spec: `UUID=${target.uuid}`,
    mountPoint: target.mountPoint,
    fsType: target.fs,
    options: `defaults,nofail,x-systemd.device-timeout=${DEVICE_TIMEOUT}`,
    dump: 0,
    pass: target.fs === 'ext4' ? 2 : 0,
  };
}

function mountStep(target: Target, device: string, layout: Layout): Step {
  const args = ['-t', target.fs];
  if (!target.hostPartition) args.push('-o', `loop,offset=${layout.offset},sizelimit=${layout.bytes}`);
  return { kind: 'run', command: 'mount', args: [...args, target.hostPartition ?? device, target.hostMountPoint], timeoutMs: 60_000, live: true };
}

/** Steps that only finish an existing data disk of ours: the mount point, fstab, the mount. */
export function planFinish(target: Target, device: string, layout: Layout, mounted: boolean): Step[] {
  const steps: Step[] = [
    { kind: 'mkdir', path: target.mountPoint },
    { kind: 'fstab', entry: fstabEntry(target) },
  ];
  if (!mounted) steps.push(mountStep(target, device, layout));
  return steps;
}

/** The whole plan for a disk `assess` found blank, or why it cannot be done. */
export function planFormat(disk: BlankDisk, target: Target): { steps: Step[] } | { problem: string } {
  const { facts } = disk;
  const diskBytes = facts.snapshot.size;
  if (diskBytes < MIN_BYTES[target.fs]) return { problem: `${facts.device} has ${diskBytes} bytes; ${target.fs} needs at least ${MIN_BYTES[target.fs]}` };
  if (target.fs === 'xfs' && !target.hostPartition) return { problem: `--fs xfs needs a block device; ${facts.device} is a file` };
  const layout = layoutFor(diskBytes, facts.sectorSize);
  const device = facts.hostDevice;
  const partition = target.hostPartition;
  const table = `label: gpt\nunit: sectors\nstart=${layout.startLba}, size=${layout.sizeLba}, type=${LINUX_FS_TYPE}, name="${DATA_LABEL}"\n`;
  const steps: Step[] = [{ kind: 'run', command: 'sfdisk', args: ['--lock', '--wipe', 'never', '--wipe-partitions', 'never', device], input: table, timeoutMs: 60_000 }];
  if (target.haveUdevadm) steps.push({ kind: 'run', command: 'udevadm', args: ['settle', '--timeout=30'], timeoutMs: 35_000, live: true });
  steps.push({ kind: 'check-table' });
  if (target.fs === 'ext4') {
    const where = partition ? [partition] : ['-E', `offset=${layout.offset}`, device, `${layout.bytes / 1024}k`];
    steps.push({ kind: 'run', command: 'mkfs.ext4', args: ['-L', DATA_LABEL, '-U', target.uuid, '-m', reservedPercent(layout.bytes), ...where], input: '', timeoutMs: 600_000 });
    steps.push({ kind: 'run', command: 'tune2fs', args: ['-c', '0', '-i', '6m', partition ?? `${device}?offset=${layout.offset}`], timeoutMs: 60_000 });
  } else {
    steps.push({ kind: 'run', command: 'mkfs.xfs', args: ['-L', DATA_LABEL, '-m', `uuid=${target.uuid}`, partition!], input: '', timeoutMs: 600_000 });
  }
  steps.push({ kind: 'check-fs', uuid: target.uuid });
  if (target.haveUdevadm) steps.push({ kind: 'run', command: 'udevadm', args: ['settle', '--timeout=30'], timeoutMs: 35_000, live: true });
  return { steps: [...steps, ...planFinish(target, device, layout, false)] };
}
