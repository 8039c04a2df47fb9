import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, promises as fsp, renameSync, unlinkSync, writeSync } from 'node:fs';
// fs.promises, not node:fs/promises: it loads (with readline) on first use, not when an addon is extracted.
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { platform } from '../platform';

/**
 * The one way files are replaced in this project: a temp file beside the target, created
 * exclusively under an unpredictable name (so a planted file or symlink there is never
 * followed), filled, flushed and renamed over the target. A crash leaves the old file or the
 * new one, plus at worst a temp file that `removeStaleTemps` recognises.
 */
interface ReplaceOptions {
  /** Mode of the new file. Default: the mode of the file it replaces, else 0o644. */
  mode?: number;
  /** Owner of the new file. Default: the owner of the file it replaces, when there is one. */
  owner?: { uid: number; gid: number };
  /** fsync the data and the folder (default true). Build outputs can skip it. */
  durable?: boolean;
  /** Problems that do not fail the write: a folder fsync after the rename, an owner we may not set. */
  warn?: (message: string) => void;
}

const TEMP_SUFFIX = '.tmp';
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** `.<name>.<16 random hex>.tmp` in the target's folder. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${platform.randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
}

/** True for names that `tempPathFor(<folder>/<target>)` makes. */
export function isTempName(name: string, target: string): boolean {
  const prefix = `.${target}.`;
  return name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX) && /^[0-9a-f]{16}$/.test(name.slice(prefix.length, -TEMP_SUFFIX.length));
}

interface Existing {
  mode: number;
  uid: number;
  gid: number;
}

function existingSync(path: string): Existing | null {
  try {
    const st = lstatSync(path);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

async function existing(path: string): Promise<Existing | null> {
  const st = await fsp.lstat(path).catch(() => null);
  return st && { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function ownerFor(options: ReplaceOptions, old: Existing | null): { uid: number; gid: number } | null {
  if (options.owner) return options.owner;
  if (!old || !platform.posixFiles) return null;
  return { uid: old.uid, gid: old.gid };
}

function warnOwner(options: ReplaceOptions, path: string, err: unknown): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EPERM' && code !== 'EINVAL') throw err;
  options.warn?.(`${path}: cannot keep the owner (${code})`);
}

async function syncFolder(path: string, options: ReplaceOptions): Promise<void> {
  if (options.durable === false || !platform.posixFiles) return;
  const dir = dirname(path);
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    options.warn?.(`fsync of ${dir} failed: ${(err as Error).message}`);
  }
}

/**
 * Replace `path` with the file that `produce` makes at the temp path it is given (a tool's output
 * file, or one we write). Mode and owner are then set, the data flushed and the file renamed into
 * place. On any failure the temp file is removed and the target is left as it was.
 */
export async function replaceFileFrom(path: string, produce: (tempPath: string) => Promise<void>, options: ReplaceOptions = {}): Promise<void> {
  const old = await existing(path);
  const temp = tempPathFor(path);
  try {
    await produce(temp);
    const file = await fsp.open(temp, (platform.posixFiles ? constants.O_RDONLY : constants.O_RDWR) | (constants.O_NOFOLLOW ?? 0));
    try {
      const owner = ownerFor(options, old);
      if (owner) await file.chown(owner.uid, owner.gid).catch((err) => warnOwner(options, path, err));
      // After chown, which may clear set-id bits.
      await file.chmod(options.mode ?? old?.mode ?? 0o644);
      if (options.durable !== false) await file.sync();
    } finally {
      await file.close();
    }
    await fsp.rename(temp, path);
  } catch (err) {
    await fsp.unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncFolder(path, options);
}

/** Replace `path` with what `fill` writes into a new temp file, created exclusively (never through a planted link). */
export function replaceFile(path: string, fill: (file: FileHandle) => Promise<void>, options: ReplaceOptions = {}): Promise<void> {
  return replaceFileFrom(
    path,
    async (temp) => {
      const file = await fsp.open(temp, CREATE_FLAGS, 0o600);
      try {
        await fill(file);
      } finally {
        await file.close();
      }
    },
    options,
  );
}

/** Replace `path` with `data`. */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: ReplaceOptions = {}): Promise<void> {
  return replaceFile(path, (file) => file.writeFile(data), options);
}

/**
 * Publish a new folder at `path`: `produce` fills a temp folder beside it, which is renamed into
 * place whole. Returns false, and drops the temp folder, when a folder is already at `path` (made
 * meanwhile by a concurrent run: folders published this way are named by what they hold).
 * POSIX only (the Linux build is its one caller): it knows "already there" by rename(2)'s
 * ENOTEMPTY or EEXIST, where Windows says EPERM, which it also says for other reasons.
 */
export async function publishFolder(path: string, produce: (tempPath: string) => Promise<void>, options: Pick<ReplaceOptions, 'durable' | 'warn'> = {}): Promise<boolean> {
  const temp = tempPathFor(path);
  await fsp.mkdir(temp, { mode: 0o755 });
  try {
    await produce(temp);
    try {
      await fsp.rename(temp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
  await syncFolder(path, options);
  return true;
}

/** The same for start-up code that cannot wait (loading a native addon). */
export function writeFileAtomicSync(path: string, data: Uint8Array, options: ReplaceOptions = {}): void {
  const old = existingSync(path);
  const temp = tempPathFor(path);
  const fd = openSync(temp, CREATE_FLAGS, 0o600);
  try {
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done);
      const owner = ownerFor(options, old);
      if (owner) {
        try {
          fchownSync(fd, owner.uid, owner.gid);
        } catch (err) {
          warnOwner(options, path, err);
        }
      }
      fchmodSync(fd, options.mode ?? old?.mode ?? 0o644);
      if (options.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err;
  }
}

/** Replace `path` (itself, never what it points to) with a symbolic link to `target`: a new link renamed over it. */
export async function replaceSymlink(path: string, target: string): Promise<void> {
  const temp = tempPathFor(path);
  await fsp.symlink(target, temp);
  try {
    await fsp.rename(temp, path);
  } catch (err) {
    await fsp.unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** Remove temp files that a crash left beside `path`; returns their names. Only our own names are touched. */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const target = basename(path);
  const names = (await fsp.readdir(dirname(path)).catch(() => [] as string[])).filter((name) => isTempName(name, target));
  for (const name of names) await fsp.unlink(join(dirname(path), name)).catch(() => undefined);
  return names;
}
