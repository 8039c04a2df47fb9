import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStubs } from './stubs';

/**
 * A prefix root that looks like a guest with a root disk and a data disk: /sys/block entries,
 * the mount table, /proc/swaps, and /dev/<data> as a sparse image file. Plus recording stubs of
 * `mount` and `udevadm` first on PATH.
 */
interface FakeDisk {
  name: string;
  dev: string;
  sizeBytes: number;
  partitions?: { name: string; dev: string; holders?: string[] }[];
  holders?: string[];
  slaves?: string[];
  removable?: boolean;
  backingFile?: string;
}

export function writeSysBlock(root: string, disks: FakeDisk[]): void {
  for (const d of disks) {
    const base = join(root, 'sys/block', d.name);
    mkdirSync(join(base, 'holders'), { recursive: true });
    mkdirSync(join(base, 'slaves'), { recursive: true });
    mkdirSync(join(base, 'queue'), { recursive: true });
    writeFileSync(join(base, 'dev'), `${d.dev}\n`);
    writeFileSync(join(base, 'size'), `${Math.floor(d.sizeBytes / 512)}\n`);
    writeFileSync(join(base, 'removable'), d.removable ? '1\n' : '0\n');
    writeFileSync(join(base, 'ro'), '0\n');
    writeFileSync(join(base, 'queue/logical_block_size'), '512\n');
    for (const h of d.holders ?? []) mkdirSync(join(base, 'holders', h));
    for (const s of d.slaves ?? []) mkdirSync(join(base, 'slaves', s));
    if (d.backingFile) {
      mkdirSync(join(base, 'loop'), { recursive: true });
      writeFileSync(join(base, 'loop/backing_file'), `${d.backingFile}\n`);
    }
    for (const p of d.partitions ?? []) {
      mkdirSync(join(base, p.name, 'holders'), { recursive: true });
      writeFileSync(join(base, p.name, 'partition'), '1\n');
      writeFileSync(join(base, p.name, 'dev'), `${p.dev}\n`);
      for (const h of p.holders ?? []) mkdirSync(join(base, p.name, 'holders', h));
    }
  }
}

export function mountinfoLine(id: number, dev: string, mountPoint: string, fsType: string, source: string): string {
  return `${id} 1 ${dev} / ${mountPoint} rw,relatime shared:1 - ${fsType} ${source} rw\n`;
}

export interface GuestRoot {
  root: string;
  stubs: string;
  /** PATH with the stubs first. */
  path: string;
  /** The calls of the stubs, in order: `mount -t ext4 ...`. */
  calls(): string[];
}

/** A guest root with vda as the root disk; the caller adds the data disk. */
export function guestRoot(dir: string, extraMounts = ''): GuestRoot {
  const root = join(dir, 'root');
  const stubs = join(dir, 'stubs');
  for (const d of ['proc/self', 'dev', 'etc', 'sys/block']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'proc/self/mountinfo'), mountinfoLine(22, '0:21', '/proc', 'proc', 'proc') + mountinfoLine(27, '254:0', '/', 'ext4', '/dev/vda') + extraMounts);
  writeFileSync(join(root, 'proc/swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
  writeFileSync(join(root, 'etc/fstab'), '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/vda / ext4 errors=remount-ro 0 1\n');
  const recording = makeStubs({ mount: 0, udevadm: 0 }, stubs);
  return { root, stubs, path: `${stubs}:${process.env.PATH}`, calls: () => recording.calls() };
}
