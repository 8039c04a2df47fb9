import { crc32 } from '../protocol/crc32';

/**
 * Our own reader of on-disk signatures. It reads a bounded set of regions of a disk (the first
 * 2 MiB, the last 1 MiB and a few single blocks further in) and says what it recognises there. A
 * disk counts as blank only when nothing is recognised AND every byte of the head and tail regions
 * is zero: data in a format we do not know still keeps the disk from being formatted.
 */

/** Read-only access to a disk or an image: its size and bounded reads. */
export interface BlockSource {
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer at the end of the disk). */
  read(offset: number, length: number): Promise<Buffer>;
}

export interface Finding {
  /** What was recognised, in blkid's words where it has one: `gpt`, `ext4`, `LVM2_member`... */
  type: string;
  /** Byte offset of the signature on the disk. */
  offset: number;
  detail?: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const HEAD_BYTES = 2 * MiB;
const TAIL_BYTES = 1 * MiB;
/** Partition starts where a file system may sit with no partition table left to say so. */
const PARTITION_BASES = [0, 63 * 512, MiB];
const EXTRA_BLOCK = 4 * KiB;

/** The regions read from a disk; `at` answers only from them, null when a range was not read. */
export class Snapshot {
  constructor(
    readonly size: number,
    private readonly regions: { offset: number; data: Buffer }[],
  ) {}

  at(offset: number, length: number): Buffer | null {
    if (offset < 0 || length < 0) return null;
    for (const r of this.regions) {
      if (offset >= r.offset && offset + length <= r.offset + r.data.length) return r.data.subarray(offset - r.offset, offset - r.offset + length);
    }
    return null;
  }

  has(offset: number, bytes: string | Buffer): boolean {
    const want = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const got = this.at(offset, want.length);
    return got !== null && got.equals(want);
  }

  u16(offset: number): number | null {
    return this.at(offset, 2)?.readUInt16LE(0) ?? null;
  }

  u32(offset: number): number | null {
    return this.at(offset, 4)?.readUInt32LE(0) ?? null;
  }

  u64(offset: number): number | null {
    const b = this.at(offset, 8);
    return b ? Number(b.readBigUInt64LE(0)) : null;
  }

  /** Offset of the first non-zero byte in the regions read, or null. */
  firstNonZero(): number | null {
    for (const r of [...this.regions].sort((a, b) => a.offset - b.offset)) {
      const i = r.data.findIndex((byte) => byte !== 0);
      if (i >= 0) return r.offset + i;
    }
    return null;
  }
}

/** Where btrfs keeps copies of its superblock (each 64 bytes past the magic's block start). */
const BTRFS_MIRRORS = [64 * MiB, 256 * 1024 * MiB];

/** Offsets of the single blocks read beyond the head and tail: btrfs mirrors and LUKS2 second headers. */
function extraOffsets(size: number): number[] {
  return [...BTRFS_MIRRORS, 2 * MiB, 4 * MiB].filter((o) => o >= HEAD_BYTES && o + EXTRA_BLOCK <= size - TAIL_BYTES);
}

/** Reads the regions the probes look at: at most HEAD_BYTES + TAIL_BYTES + 4 blocks. */
export async function readSnapshot(source: BlockSource): Promise<Snapshot> {
  const size = source.size;
  const regions = [{ offset: 0, data: await source.read(0, Math.min(size, HEAD_BYTES)) }];
  const tailStart = Math.max(HEAD_BYTES, size - TAIL_BYTES);
  if (tailStart < size) regions.push({ offset: tailStart, data: await source.read(tailStart, size - tailStart) });
  for (const offset of extraOffsets(size)) regions.push({ offset, data: await source.read(offset, EXTRA_BLOCK) });
  return new Snapshot(size, regions);
}

/** Everything recognised on the disk, in offset order. */
export function findSignatures(s: Snapshot): Finding[] {
  const found = [...bootSector(s), ...gptHeaders(s), ...mdSuperblocks(s), ...zfsLabels(s), ...btrfsMirrors(s)];
  for (const base of PARTITION_BASES) found.push(...volumeSignatures(s, base));
  const unique = new Map(found.map((f) => [`${f.type}@${f.offset}`, f]));
  return [...unique.values()].sort((a, b) => a.offset - b.offset);
}

/** Signatures of things that can start at a partition boundary (or at 0 on a bare disk). */
function volumeSignatures(s: Snapshot, base: number): Finding[] {
  const found: Finding[] = [];
  const add = (type: string, offset: number, detail?: string) => found.push({ type, offset: base + offset, ...(detail ? { detail } : {}) });
  const ext = extInfo(s, base);
  if (ext) add(ext.type, 1024 + 56, describe(ext));
  const xfs = xfsInfo(s, base);
  if (xfs) add('xfs', 0, describe(xfs));
  if (s.has(base + 64 * KiB + 64, '_BHRfS_M')) add('btrfs', 64 * KiB + 64);
  if (s.has(base + 3, 'NTFS    ')) add('ntfs', 3);
  if (s.has(base + 3, 'EXFAT   ')) add('exfat', 3);
  if (s.has(base + 54, 'FAT1') || s.has(base + 82, 'FAT32   ')) add('vfat', s.has(base + 82, 'FAT32') ? 82 : 54);
  if (s.has(base, 'LUKS\xba\xbe')) add('crypto_LUKS', 0, `version ${s.at(base + 6, 2)?.readUInt16BE(0)}`);
  for (const second of [0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000]) {
    if (s.has(base + second, 'SKUL\xba\xbe')) add('crypto_LUKS', second, 'LUKS2 second header');
  }
  for (let sector = 0; sector < 4; sector++) {
    if (s.has(base + sector * 512, 'LABELONE') && s.has(base + sector * 512 + 24, 'LVM2 001')) add('LVM2_member', sector * 512);
  }
  for (const page of [4096, 8192, 16384, 32768, 65536]) {
    for (const magic of ['SWAPSPACE2', 'SWAP-SPACE', 'S1SUSPEND', 'S2SUSPEND', 'ULSUSPEND', 'LINHIB0001']) {
      if (s.has(base + page - 10, magic)) add(magic.includes('SWAP') ? 'swap' : 'swsuspend', page - 10, magic);
    }
  }
  for (let block = 0; block < 16; block++) {
    const at = 32 * KiB + block * 2048 + 1;
    if (s.has(base + at, 'CD001')) add('iso9660', at);
    for (const udf of ['BEA01', 'NSR02', 'NSR03', 'TEA01']) if (s.has(base + at, udf)) add('udf', at, udf);
  }
  const bcache = Buffer.from('c68573f64e1a45ca8265f57f48ba6d81', 'hex');
  if (s.has(base + 4096 + 24, bcache)) add('bcache', 4096 + 24);
  return found;
}

/** The MBR signature 55 AA: a partition table, a protective MBR or a boot sector. */
function bootSector(s: Snapshot): Finding[] {
  if (!s.has(510, Buffer.from([0x55, 0xaa]))) return [];
  const entries = [0, 1, 2, 3].map((i) => s.at(446 + i * 16, 16)!);
  const types = entries.map((e) => e[4]).filter((t) => t !== 0);
  if (types.includes(0xee)) return [{ type: 'PMBR', offset: 510, detail: 'protective MBR of a GPT' }];
  if (types.length > 0) return [{ type: 'dos', offset: 510, detail: `MBR partition table, types ${types.map((t) => t.toString(16)).join(',')}` }];
  return [{ type: 'boot-sector', offset: 510, detail: '55 AA without partitions' }];
}

const GPT_MAGIC = 'EFI PART';

/** Primary (LBA 1) and backup (last LBA) GPT headers, for 512- and 4096-byte sectors. */
function gptHeaders(s: Snapshot): Finding[] {
  const found: Finding[] = [];
  for (const sector of [512, 4096]) {
    if (s.has(sector, GPT_MAGIC)) found.push({ type: 'gpt', offset: sector, detail: `primary header, ${sector}-byte sectors` });
    const last = Math.floor(s.size / sector) * sector - sector;
    if (last > sector && s.has(last, GPT_MAGIC)) found.push({ type: 'gpt', offset: last, detail: `backup header, ${sector}-byte sectors` });
  }
  return found;
}

const MD_MAGIC = 0xa92b4efc;

/** md RAID superblocks: 0.90 and 1.0 near the end, 1.1 at 0, 1.2 at 4 KiB. */
function mdSuperblocks(s: Snapshot): Finding[] {
  const alignDown = (n: number, unit: number) => n - (n % unit);
  const places: [string, number][] = [
    ['0.90', alignDown(s.size, 64 * KiB) - 64 * KiB],
    ['1.0', alignDown(Math.floor(s.size / 512) - 16, 8) * 512],
    ['1.1', 0],
    ['1.2', 4096],
  ];
  const found: Finding[] = [];
  for (const [version, offset] of places) {
    const b = s.at(offset, 8);
    if (!b || offset < 0) continue;
    const littleEndian = b.readUInt32LE(0) === MD_MAGIC;
    if (!littleEndian && b.readUInt32BE(0) !== MD_MAGIC) continue;
    const major = littleEndian ? b.readUInt32LE(4) : b.readUInt32BE(4);
    found.push({ type: 'linux_raid_member', offset, detail: `md superblock ${version} (major version ${major})` });
  }
  return found;
}

const LABEL = 256 * KiB;

/** ZFS vdev labels: an uberblock magic in any 1 KiB slot of the uberblock ring of any of the four labels. */
function zfsLabels(s: Snapshot): Finding[] {
  const aligned = s.size - (s.size % LABEL);
  const magicLE = Buffer.alloc(8);
  magicLE.writeBigUInt64LE(0x00bab10cn);
  const magicBE = Buffer.from(magicLE).reverse();
  for (const label of [0, LABEL, aligned - 2 * LABEL, aligned - LABEL]) {
    if (label < 0) continue;
    for (let slot = 0; slot < 128; slot++) {
      const at = label + 128 * KiB + slot * KiB;
      if (s.has(at, magicLE) || s.has(at, magicBE)) return [{ type: 'zfs_member', offset: at, detail: 'ZFS uberblock' }];
    }
  }
  return [];
}

function btrfsMirrors(s: Snapshot): Finding[] {
  return BTRFS_MIRRORS.filter((o) => s.has(o + 64, '_BHRfS_M')).map((o) => ({ type: 'btrfs', offset: o + 64, detail: 'superblock mirror' }));
}

export interface FsInfo {
  type: string;
  uuid: string;
  label: string;
}

function describe(fs: FsInfo): string {
  return `UUID ${fs.uuid}${fs.label ? `, label "${fs.label}"` : ''}`;
}

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** The ext2/3/4 superblock at `base` + 1 KiB. */
export function extInfo(s: Snapshot, base: number): FsInfo | null {
  const sb = base + 1024;
  if (s.u16(sb + 56) !== 0xef53) return null;
  const compat = s.u32(sb + 92)!;
  const incompat = s.u32(sb + 96)!;
  const roCompat = s.u32(sb + 100)!;
  let type = 'ext2';
  if (incompat & 0x8) type = 'jbd';
  else if (incompat & ~0x7 || roCompat & ~0x7) type = 'ext4';
  else if (compat & 0x4) type = 'ext3';
  return { type, uuid: uuidText(s.at(sb + 104, 16)!), label: cString(s.at(sb + 120, 16)!) };
}

/** The xfs superblock at `base`. */
export function xfsInfo(s: Snapshot, base: number): FsInfo | null {
  if (!s.has(base, 'XFSB')) return null;
  return { type: 'xfs', uuid: uuidText(s.at(base + 32, 16)!), label: cString(s.at(base + 108, 12)!) };
}

interface GptPartition {
  index: number;
  typeGuid: string;
  firstLba: number;
  lastLba: number;
  name: string;
}

interface GptTable {
  partitions: GptPartition[];
}

/** A GUID as text: the first three fields are stored little-endian. */
function guidText(b: Buffer): string {
  const swapped = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8, 16)]);
  return uuidText(swapped).toUpperCase();
}

/** The GPT header at `lba`, checked (CRCs of header and entries, its own LBA) and parsed; null when absent or invalid. */
function readGptAt(s: Snapshot, sectorSize: number, lba: number): GptTable | null {
  const at = lba * sectorSize;
  if (!s.has(at, GPT_MAGIC)) return null;
  const headerSize = s.u32(at + 12)!;
  if (headerSize < 92 || headerSize > sectorSize) return null;
  const header = Buffer.from(s.at(at, headerSize)!);
  const headerCrc = header.readUInt32LE(16);
  header.writeUInt32LE(0, 16);
  if (crc32(header) !== headerCrc || s.u64(at + 24) !== lba) return null;
  const entriesLba = s.u64(at + 72)!;
  const count = s.u32(at + 80)!;
  const entrySize = s.u32(at + 84)!;
  if (entrySize < 128 || count * entrySize > MiB) return null;
  const entries = s.at(entriesLba * sectorSize, count * entrySize);
  if (!entries || crc32(entries) !== s.u32(at + 88)) return null;
  const partitions: GptPartition[] = [];
  for (let i = 0; i < count; i++) {
    const e = entries.subarray(i * entrySize, (i + 1) * entrySize);
    if (e.subarray(0, 16).every((byte) => byte === 0)) continue;
    const name = e.subarray(56, 128).toString('utf16le');
    partitions.push({
      index: i + 1,
      typeGuid: guidText(e.subarray(0, 16)),
      firstLba: Number(e.readBigUInt64LE(32)),
      lastLba: Number(e.readBigUInt64LE(40)),
      name: name.slice(0, (name + '\0').indexOf('\0')),
    });
  }
  return { partitions };
}

/** The GPT when both headers are valid and describe the same partitions; null otherwise. */
export function readGpt(s: Snapshot, sectorSize: number): GptTable | null {
  const primary = readGptAt(s, sectorSize, 1);
  const backup = readGptAt(s, sectorSize, Math.floor(s.size / sectorSize) - 1);
  if (!primary || !backup) return null;
  return JSON.stringify(primary.partitions) === JSON.stringify(backup.partitions) ? primary : null;
}
