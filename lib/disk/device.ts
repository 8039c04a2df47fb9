import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { BlockSource } from './signatures';

/** One read never asks for more than this; the probes read a few MiB in all. */
const MAX_READ = 4 * 1024 * 1024;

interface OpenedDisk {
  kind: 'block' | 'file';
  /** `major:minor` of a block device. */
  rdev: string | null;
  /** True when the kernel refused an exclusive open: something (a mount, swap, md, dm) holds the device. */
  busy: boolean;
  /** The size of a regular file; a block device's comes from sysfs. */
  fileSize: number;
  /** Bounded reads, given the disk's size. */
  source(size: number): BlockSource;
  close(): Promise<void>;
}

/**
 * Opens a disk or image read-only, never for writing. A block device is first opened with
 * O_EXCL, which the kernel refuses (EBUSY) while the device or one of its partitions is mounted,
 * used as swap or held by md/dm; it is then opened plainly so it can still be read.
 */
export async function openDisk(hostPath: string): Promise<OpenedDisk> {
  let handle = await open(hostPath, constants.O_RDONLY | constants.O_NONBLOCK);
  const st = await handle.stat();
  if (!st.isBlockDevice() && !st.isFile()) {
    await handle.close();
    throw new Error(`${hostPath} is neither a block device nor a regular file`);
  }
  let busy = false;
  if (st.isBlockDevice()) {
    await handle.close();
    try {
      handle = await open(hostPath, constants.O_RDONLY | constants.O_EXCL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
      busy = true;
      handle = await open(hostPath, constants.O_RDONLY);
    }
    const again = await handle.stat();
    if (!again.isBlockDevice() || again.rdev !== st.rdev) {
      await handle.close();
      throw new Error(`${hostPath} changed while it was being opened`);
    }
  }
  const h = handle;
  return {
    kind: st.isBlockDevice() ? 'block' : 'file',
    rdev: st.isBlockDevice() ? deviceNumber(st.rdev) : null,
    busy,
    fileSize: st.isFile() ? st.size : 0,
    source: (size) => handleSource(h, size),
    close: () => h.close(),
  };
}

/** `major:minor` of a Linux dev_t, as sysfs writes it. */
function deviceNumber(rdev: number): string {
  const high = Math.floor(rdev / 2 ** 32);
  const major = ((rdev >>> 8) & 0xfff) | (high & ~0xfff);
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  return `${major}:${minor}`;
}

/** Bounded reads of an open disk whose size is known (from sysfs, or what Windows reports for `\\.\PhysicalDriveN`). */
export function handleSource(handle: FileHandle, size: number): BlockSource {
  return { size, read: (offset, length) => readAt(handle, offset, Math.min(length, size - offset)) };
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  if (length > MAX_READ) throw new Error(`refusing a ${length}-byte read`);
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}
