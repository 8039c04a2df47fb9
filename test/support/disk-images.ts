import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Sparse disk images holding one kind of signature each, made by the real tools where this
 * machine can run them. Two cannot be made here: this kernel has no md driver (mdadm --create
 * fails) and Debian has no ZFS for it. Those superblocks are written by `writeMdSuperblock` and
 * `writeZfsLabels` after the on-disk layouts, and the disk-format test checks that blkid -p
 * recognises them, as it does every fixture blkid can see, before they are used.
 */

export function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 }).toString();
}

const SPARSE_HASH = `
import hashlib, os, sys
h = hashlib.sha256()
with open(sys.argv[1], 'rb') as f:
    size = os.fstat(f.fileno()).st_size
    h.update(str(size).encode())
    pos = 0
    while pos < size:
        try:
            start = os.lseek(f.fileno(), pos, os.SEEK_DATA)
        except OSError:
            break
        end = os.lseek(f.fileno(), start, os.SEEK_HOLE)
        h.update(b'@%d' % start)
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            h.update(chunk)
            left -= len(chunk)
        pos = end
print(h.hexdigest())
`;

/**
 * SHA-256 of a sparse image's size and of every data extent with its offset: any change of content
 * changes it (a hole that gets data becomes an extent), and holes are not read, so a 20 GiB image
 * hashes in milliseconds.
 */
export function imageHash(path: string): string {
  return sh('python3', ['-c', SPARSE_HASH, path]).trim();
}

export function blankImage(path: string, size: string): string {
  sh('truncate', ['-s', size, path]);
  return path;
}

/** Writes `data` at `offset`, leaving the rest of the file as it is. */
export function writeAt(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Runs `body` with the image on a loop device, always detached afterwards. */
function withLoop<T>(image: string, body: (device: string) => T): T {
  const device = sh('losetup', ['--find', '--show', image]).trim();
  try {
    return body(device);
  } finally {
    spawnSync('losetup', ['--detach', device], { timeout: 30_000 });
  }
}

const MD_MAGIC = 0xa92b4efc;

/** md 1.x superblock checksum: 32-bit little-endian words summed in 64 bits, folded. */
function md1Checksum(sb: Buffer, length: number): number {
  let sum = 0n;
  for (let i = 0; i < length; i += 4) sum += BigInt(i === 216 ? 0 : sb.readUInt32LE(i));
  return Number((sum & 0xffffffffn) + (sum >> 32n)) >>> 0;
}

/** An md superblock of `version` (0.90, 1.0, 1.1, 1.2) for a 2-disk RAID1, where that version puts it. */
function writeMdSuperblock(path: string, sizeBytes: number, version: '0.90' | '1.0' | '1.1' | '1.2'): void {
  const sectors = Math.floor(sizeBytes / 512);
  if (version === '0.90') {
    const offset = sizeBytes - (sizeBytes % 65536) - 65536;
    const sb = Buffer.alloc(4096);
    const words = [MD_MAGIC, 0, 90, 0, 0, 0x11223344, 1700000000, 1, Math.floor(offset / 1024), 2, 2, 0, 0, 0x55667788, 0x99aabbcc, 0xddeeff00];
    words.forEach((w, i) => sb.writeUInt32LE(w >>> 0, i * 4));
    sb.writeUInt32LE(1700000000, 32 * 4); // utime
    sb.writeUInt32LE(1, 33 * 4); // state: clean
    sb.writeUInt32LE(2, 34 * 4); // active
    sb.writeUInt32LE(2, 35 * 4); // working
    sb.writeUInt32LE(1, 39 * 4); // events
    let sum = 0n;
    for (let i = 0; i < 4096; i += 4) sum += BigInt(sb.readUInt32LE(i));
    sb.writeUInt32LE(Number((sum & 0xffffffffn) + (sum >> 32n)) >>> 0, 38 * 4);
    writeAt(path, offset, sb);
    return;
  }
  const superSector = version === '1.0' ? (sectors - 16) - ((sectors - 16) % 8) : version === '1.1' ? 0 : 8;
  const dataOffset = version === '1.0' ? 0 : 2048;
  const dataSize = version === '1.0' ? superSector : sectors - dataOffset;
  const sb = Buffer.alloc(512);
  sb.writeUInt32LE(MD_MAGIC, 0);
  sb.writeUInt32LE(1, 4);
  Buffer.from('0123456789abcdef0123456789abcdef', 'hex').copy(sb, 16); // set uuid
  sb.write('fixture:0', 32, 'latin1'); // set name
  sb.writeBigUInt64LE(1700000000n, 64); // ctime
  sb.writeUInt32LE(1, 72); // level: raid1
  sb.writeBigUInt64LE(BigInt(dataSize), 80); // size
  sb.writeUInt32LE(2, 92); // raid disks
  sb.writeBigUInt64LE(BigInt(dataOffset), 128);
  sb.writeBigUInt64LE(BigInt(dataSize), 136);
  sb.writeBigUInt64LE(BigInt(superSector), 144);
  Buffer.from('fedcba9876543210fedcba9876543210', 'hex').copy(sb, 168); // device uuid
  sb.writeBigUInt64LE(1700000000n, 192); // utime
  sb.writeBigUInt64LE(1n, 200); // events
  sb.writeBigUInt64LE(0xffffffffffffffffn, 208); // resync offset: clean
  sb.writeUInt32LE(2, 220); // max_dev
  sb.writeUInt16LE(0, 256); // dev_roles[0] = 0
  sb.writeUInt16LE(1, 258); // dev_roles[1] = 1
  sb.writeUInt32LE(md1Checksum(sb, 256 + 2 * 2), 216);
  writeAt(path, superSector * 512, sb);
}

/** ZFS vdev labels L0..L3, each with an uberblock (magic 0x00bab10c, little-endian) in its ring. */
function writeZfsLabels(path: string, sizeBytes: number): void {
  const label = 256 * 1024;
  const aligned = sizeBytes - (sizeBytes % label);
  const ub = Buffer.alloc(1024);
  ub.writeBigUInt64LE(0x00bab10cn, 0); // magic
  ub.writeBigUInt64LE(5000n, 8); // version
  ub.writeBigUInt64LE(4n, 16); // txg
  for (const at of [0, label, aligned - 2 * label, aligned - label]) writeAt(path, at + 128 * 1024 + 4 * 1024, ub);
}

interface Fixture {
  name: string;
  /** What our reader must call it. */
  type: string;
  /** blkid -p's TYPE or PTTYPE for it; null where blkid cannot see it. */
  blkid: string | null;
  make(path: string): void;
}

const KEY = 'fixture-passphrase';

/** One image per kind of content that must keep a disk from being formatted. */
export function fixtures(dir: string): Fixture[] {
  const keyFile = join(dir, 'luks.key');
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, KEY);
  const table = (label: string) => (p: string) => {
    blankImage(p, '256M');
    sh('sfdisk', ['--quiet', p], `label: ${label}\n,,L\n`);
  };
  return [
    { name: 'MBR table', type: 'dos', blkid: 'dos', make: table('dos') },
    { name: 'GPT', type: 'gpt', blkid: 'gpt', make: table('gpt') },
    {
      name: 'GPT with only the backup header left',
      type: 'gpt',
      blkid: null,
      make: (p) => {
        table('gpt')(p);
        writeAt(p, 0, Buffer.alloc(34 * 512));
      },
    },
    { name: 'bare ext4', type: 'ext4', blkid: 'ext4', make: (p) => (blankImage(p, '256M'), sh('mkfs.ext4', ['-q', '-F', p])) },
    { name: 'bare ext2', type: 'ext2', blkid: 'ext2', make: (p) => (blankImage(p, '256M'), sh('mkfs.ext2', ['-q', '-F', p])) },
    { name: 'ext3', type: 'ext3', blkid: 'ext3', make: (p) => (blankImage(p, '256M'), sh('mkfs.ext3', ['-q', '-F', p])) },
    {
      name: 'ext4 at 1 MiB with the table wiped',
      type: 'ext4',
      blkid: null,
      make: (p) => {
        blankImage(p, '256M');
        sh('mkfs.ext4', ['-q', '-F', '-E', 'offset=1048576', p, '65536k']);
      },
    },
    { name: 'xfs', type: 'xfs', blkid: 'xfs', make: (p) => (blankImage(p, '512M'), sh('mkfs.xfs', ['-q', p])) },
    { name: 'btrfs', type: 'btrfs', blkid: 'btrfs', make: (p) => (blankImage(p, '256M'), sh('mkfs.btrfs', ['-q', p])) },
    { name: 'vfat', type: 'vfat', blkid: 'vfat', make: (p) => (blankImage(p, '256M'), sh('mkfs.vfat', [p])) },
    { name: 'NTFS', type: 'ntfs', blkid: 'ntfs', make: (p) => (blankImage(p, '256M'), sh('mkntfs', ['-F', '-Q', '-q', p])) },
    {
      name: 'iso9660',
      type: 'iso9660',
      blkid: 'iso9660',
      make: (p) => {
        const src = join(dir, 'iso-src');
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, 'file.txt'), 'data\n');
        sh('xorriso', ['-as', 'mkisofs', '-quiet', '-o', p, src]);
        sh('truncate', ['-s', '256M', p]);
      },
    },
    {
      name: 'LVM physical volume',
      type: 'LVM2_member',
      blkid: 'LVM2_member',
      make: (p) => {
        blankImage(p, '256M');
        withLoop(p, (dev) => sh('pvcreate', ['--quiet', '--yes', dev]));
      },
    },
    { name: 'swap', type: 'swap', blkid: 'swap', make: (p) => (blankImage(p, '256M'), sh('mkswap', [p])) },
    {
      name: 'LUKS2',
      type: 'crypto_LUKS',
      blkid: 'crypto_LUKS',
      make: (p) => {
        blankImage(p, '256M');
        sh('cryptsetup', ['luksFormat', '--batch-mode', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file', keyFile, p]);
      },
    },
    {
      name: 'LUKS1',
      type: 'crypto_LUKS',
      blkid: 'crypto_LUKS',
      make: (p) => {
        blankImage(p, '256M');
        sh('cryptsetup', ['luksFormat', '--batch-mode', '--type', 'luks1', '--pbkdf-force-iterations', '1000', '--key-file', keyFile, p]);
      },
    },
    ...(['0.90', '1.0', '1.1', '1.2'] as const).map((version) => ({
      name: `md superblock ${version}`,
      type: 'linux_raid_member',
      blkid: 'linux_raid_member',
      make: (p: string) => {
        blankImage(p, '256M');
        writeMdSuperblock(p, 256 * 1024 * 1024, version);
      },
    })),
    {
      name: 'ZFS labels',
      type: 'zfs_member',
      blkid: 'zfs_member',
      make: (p) => {
        blankImage(p, '256M');
        writeZfsLabels(p, 256 * 1024 * 1024);
      },
    },
    {
      name: 'unrecognised bytes',
      type: '',
      blkid: null,
      make: (p) => {
        blankImage(p, '256M');
        writeAt(p, 200_000, Buffer.from('not a known format, but somebody wrote it'));
      },
    },
  ];
}
