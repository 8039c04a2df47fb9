import { extInfo, findSignatures, readGpt, xfsInfo, type FsInfo, type Snapshot } from './signatures';
import type { Use } from './system';

/**
 * The one decision that allows writing to a disk. Only `assess` can make a `BlankDisk`, and the
 * format plan takes nothing else, so no code path reaches `sfdisk` or `mkfs` without every check.
 */

/** The GPT partition name and file-system label we give the data disk; how we recognise our own work. */
export const DATA_LABEL = 'sdc-data';
/** GPT type "Linux filesystem data". */
export const LINUX_FS_TYPE = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
export const PARTITION_OFFSET = 1024 * 1024;

export interface Opinion {
  /** `blkid -p` or `wipefs -n`. */
  tool: string;
  /** What it recognised; empty when nothing. */
  hits: string[];
  /** Set when the tool failed: that is not a "blank" answer. */
  failed?: string;
}

export interface DiskFacts {
  /** The device as the guest names it (`/dev/vdb`, or a file for tests). */
  device: string;
  /** Its path on this host (under the root), for the commands. */
  hostDevice: string;
  kind: 'block' | 'file';
  /** Its /sys/block name (`vdb`, `nvme1n1`); for a file, the name it stands in for under /dev; else null. */
  sysfsName: string | null;
  sectorSize: number;
  snapshot: Snapshot;
  uses: Use[];
  opinions: Opinion[];
}

const issue = Symbol('assessed');

/** A disk that every check found empty and unused. Made only by `assess`. */
export class BlankDisk {
  private constructor(readonly facts: DiskFacts) {}

  static [issue](facts: DiskFacts): BlankDisk {
    return new BlankDisk(facts);
  }
}

type Verdict =
  | { kind: 'blank'; disk: BlankDisk }
  /** Our own layout (GPT, one `sdc-data` partition at 1 MiB, our file system): only fstab and mount may be finished. */
  | { kind: 'ours'; fs: FsInfo; mounted: boolean }
  | { kind: 'leave'; reasons: string[] };

/** The partition and file system we create, read back; null when the disk holds anything else. */
export function ourLayout(s: Snapshot, sectorSize: number): FsInfo | null {
  const gpt = readGpt(s, sectorSize);
  if (!gpt || gpt.partitions.length !== 1) return null;
  const [p] = gpt.partitions;
  if (p.index !== 1 || p.firstLba * sectorSize !== PARTITION_OFFSET || p.name !== DATA_LABEL || p.typeGuid !== LINUX_FS_TYPE) return null;
  const fs = extInfo(s, PARTITION_OFFSET) ?? xfsInfo(s, PARTITION_OFFSET);
  if (!fs || fs.label !== DATA_LABEL || (fs.type !== 'ext4' && fs.type !== 'xfs')) return null;
  const expected = new Set(['PMBR', 'gpt', fs.type]);
  return findSignatures(s).every((f) => expected.has(f.type)) ? fs : null;
}

/** What our reader found on a disk, as reasons to leave it alone: each signature, then the first byte that is not zero. */
export function contentReasons(s: Snapshot): string[] {
  const reasons = findSignatures(s).map((f) => `${f.type} signature at byte ${f.offset}${f.detail ? ` (${f.detail})` : ''}`);
  const firstNonZero = s.firstNonZero();
  if (firstNonZero !== null) reasons.push(`non-zero data at byte ${firstNonZero}`);
  return reasons;
}

export function assess(facts: DiskFacts, mountPoint: string): Verdict {
  const ours = ourLayout(facts.snapshot, facts.sectorSize);
  if (ours) {
    const atOurMount = (u: Use) => u.kind === 'mounted' && u.mountPoint === mountPoint;
    const mounted = facts.uses.some(atOurMount);
    const other = facts.uses.filter((u) => u.kind !== 'partition' && !atOurMount(u) && !(u.kind === 'busy' && mounted));
    if (other.length > 0) return { kind: 'leave', reasons: [`it holds our ${ours.type} file system (UUID ${ours.uuid})`, ...other.map((u) => u.text)] };
    return { kind: 'ours', fs: ours, mounted };
  }
  const reasons = [...facts.uses.map((u) => u.text), ...contentReasons(facts.snapshot)];
  for (const o of facts.opinions) {
    if (o.failed) reasons.push(`${o.tool} could not check it: ${o.failed}`);
    for (const hit of o.hits) reasons.push(`${o.tool} found ${hit}`);
  }
  return reasons.length > 0 ? { kind: 'leave', reasons } : { kind: 'blank', disk: BlankDisk[issue](facts) };
}
