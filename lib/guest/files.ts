import { constants, type Stats } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { dirname, join, posix, win32 } from 'node:path';
import { replaceFileFrom, replaceSymlink, writeFileAtomic } from '../fs/atomic-write';
import { platform } from '../platform';
import { unifiedDiff } from './diff';
import type { GuestLog, RootedFiles, WriteOptions } from './context';

const MAX_LINKS = 40;
/** What a streamed compare holds of each file at a time. */
const COMPARE_CHUNK = 1 << 20;

/**
 * A guest path names a file as the guest sees it: POSIX (`/etc/hosts`), a Windows drive path
 * (`C:\smartdc\state\state.json`, either slash) or a Windows device (`\\.\PhysicalDrive1`).
 * Under a prefix root each lives below the root: `<root>/etc/hosts`, `<root>/C/smartdc/state/state.json`,
 * `<root>/dev/PhysicalDrive1`. With the root `/` on Windows, Windows paths are themselves.
 */
interface GuestPath {
  kind: 'posix' | 'drive' | 'device';
  /** The top (a drive letter, or `dev` for devices; none for POSIX), which `..` never leaves. */
  top: string[];
  parts: string[];
}

function split(text: string, separators: RegExp): string[] {
  return text.split(separators).filter((c) => c !== '' && c !== '.');
}

function parseGuestPath(path: string): GuestPath {
  const drive = /^([A-Za-z]):[\\/]/.exec(path);
  if (drive) return { kind: 'drive', top: [drive[1].toUpperCase()], parts: split(path.slice(3), /[\\/]/) };
  const device = /^\\\\\.\\([^\\/]+)$/.exec(path);
  if (device) return { kind: 'device', top: ['dev'], parts: [device[1]] };
  if (path.startsWith('/')) return { kind: 'posix', top: [], parts: split(path, /\//) };
  throw new Error(`not an absolute guest path: ${path}`);
}

/** A link target: where it starts again (a drive letter, the top, or here) and its components. */
function parseLink(kind: GuestPath['kind'], target: string): { top: string[] | null; absolute: boolean; parts: string[] } {
  if (kind === 'posix') return { top: null, absolute: target.startsWith('/'), parts: split(target, /\//) };
  const plain = target.replace(/^\\\\\?\\/, '');
  const drive = /^([A-Za-z]):[\\/]/.exec(plain);
  if (drive) return { top: [drive[1].toUpperCase()], absolute: true, parts: split(plain.slice(3), /[\\/]/) };
  return { top: null, absolute: /^[\\/]/.test(plain), parts: split(plain, /[\\/]/) };
}

function hostJoin(root: string, path: GuestPath, parts: string[]): string {
  if (root === '/' && platform.name === 'windows' && path.kind !== 'posix') {
    return path.kind === 'device' ? `\\\\.\\${parts[0]}` : win32.join(`${path.top[0]}:\\`, ...parts);
  }
  return join(root, ...path.top, ...parts) || '/';
}

/**
 * A guest path under `root`, with every symlink on the way resolved inside the root (an absolute
 * link target starts again at the root; `..` never leaves it), as a chroot would see it.
 * With `followLast` false the last component itself is not resolved.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const guest = parseGuestPath(path);
  let pending = [...guest.parts];
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name];
    const isLast = pending.length === 0;
    const info = await lstat(hostJoin(root, guest, candidate)).catch(() => null);
    if (info === null && !pending.includes('..')) {
      // Nothing there, so no link below it either: the rest is only spelled out.
      return hostJoin(root, guest, [...candidate, ...pending]);
    }
    if (!info?.isSymbolicLink() || (isLast && !followLast)) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`${path}: too many levels of symbolic links`);
    const target = parseLink(guest.kind, await readlink(hostJoin(root, guest, candidate)));
    if (target.top) guest.top = target.top;
    if (target.absolute) resolved = [];
    pending = [...target.parts, ...pending];
  }
  return hostJoin(root, guest, resolved);
}

/** A guest path under `root`, as it is spelled (no symlink resolved). */
export function hostPath(root: string, path: string): string {
  const guest = parseGuestPath(path);
  return hostJoin(root, guest, guest.parts);
}

/** The folder of a guest path, in the guest's own spelling. */
export function guestDirname(path: string): string {
  return parseGuestPath(path).kind === 'posix' ? posix.dirname(path) : win32.dirname(path);
}

/** POSIX modes and owners mean something only for POSIX guest paths: Windows files get their ACLs from their folder. */
function hasModes(path: string): boolean {
  return parseGuestPath(path).kind === 'posix';
}

/** The write options that mean something at `path`: a Windows path has no mode or owner. */
function applicable(path: string, given: WriteOptions): WriteOptions {
  return hasModes(path) ? given : { ...given, mode: undefined, owner: undefined };
}

/** Whether the file in place already has the mode and owner asked for (those not asked for count as kept). */
function sameModeOwner(info: Stats | null, options: WriteOptions): boolean {
  const modeSame = options.mode === undefined || (info !== null && (info.mode & 0o7777) === options.mode);
  const ownerSame = !options.owner || (info !== null && info.uid === options.owner.uid && info.gid === options.owner.gid);
  return modeSame && ownerSame;
}

/** ` mode 0755` in a dry run's line, or nothing when the mode is kept. */
const modeNote = (options: WriteOptions): string => (options.mode === undefined ? '' : ` mode ${options.mode.toString(8).padStart(4, '0')}`);

/** Whether two files of `size` bytes hold the same bytes, compared a chunk at a time (a short read counts as a difference). */
async function sameContent(a: string, b: string, size: number): Promise<boolean> {
  const first = await open(a, 'r');
  try {
    const second = await open(b, 'r');
    try {
      const [x, y] = [Buffer.alloc(COMPARE_CHUNK), Buffer.alloc(COMPARE_CHUNK)];
      for (let at = 0; at < size; at += COMPARE_CHUNK) {
        const length = Math.min(COMPARE_CHUNK, size - at);
        const [r, s] = await Promise.all([first.read(x, 0, length, at), second.read(y, 0, length, at)]);
        if (r.bytesRead !== length || s.bytesRead !== length || !x.subarray(0, length).equals(y.subarray(0, length))) return false;
      }
      return true;
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
  }
}

interface FileOptions {
  root: string;
  dryRun: boolean;
  log: GuestLog;
  /** Where a dry run prints what it would change. */
  print: (text: string) => void;
}

/** Files under the root, written atomically and only on change; a dry run prints a diff instead. */
export class GuestFiles implements RootedFiles {
  constructor(private readonly options: FileOptions) {}

  hostPath(path: string): string {
    return hostPath(this.options.root, path);
  }

  async read(path: string): Promise<Buffer | null> {
    const real = await resolveInRoot(this.options.root, path);
    return readFile(real).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw err;
    });
  }

  async readText(path: string): Promise<string | null> {
    return (await this.read(path))?.toString('utf8') ?? null;
  }

  async stat(path: string): Promise<Stats | null> {
    return stat(await resolveInRoot(this.options.root, path)).catch(() => null);
  }

  async lstat(path: string): Promise<Stats | null> {
    return lstat(await resolveInRoot(this.options.root, path, false)).catch(() => null);
  }

  async readlink(path: string): Promise<string | null> {
    return readlink(await resolveInRoot(this.options.root, path, false)).catch(() => null);
  }

  async list(path: string): Promise<string[]> {
    return readdir(await resolveInRoot(this.options.root, path)).catch((err: NodeJS.ErrnoException) => {
      // A folder that is there but cannot be read must not pass for an empty one.
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
      throw err;
    });
  }

  async write(path: string, data: string | Buffer, given: WriteOptions = {}): Promise<boolean> {
    const options = applicable(path, given);
    const real = await resolveInRoot(this.options.root, path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const old = await readFile(real).catch(() => null);
    const info = old ? await stat(real) : null;
    if (old?.equals(bytes) && sameModeOwner(info, options)) return false;
    if (this.options.dryRun) {
      this.printChange(path, old, bytes, options);
      return true;
    }
    await mkdir(dirname(real), { recursive: true });
    await writeFileAtomic(real, bytes, { mode: options.mode, owner: options.owner, warn: (m) => this.options.log.warn(m) });
    return true;
  }

  async copy(path: string, source: string, given: WriteOptions = {}): Promise<boolean> {
    const options = applicable(path, given);
    const real = await resolveInRoot(this.options.root, path);
    const size = (await stat(source)).size;
    const info = await stat(real).catch(() => null);
    if (info?.isFile() && info.size === size && sameModeOwner(info, options) && (await sameContent(real, source, size))) return false;
    if (this.options.dryRun) {
      this.printSize(path, size, options);
      return true;
    }
    await mkdir(dirname(real), { recursive: true });
    await replaceFileFrom(real, (temp) => copyFile(source, temp, constants.COPYFILE_EXCL), { mode: options.mode, owner: options.owner, warn: (m) => this.options.log.warn(m) });
    return true;
  }

  private printChange(path: string, old: Buffer | null, bytes: Buffer, options: WriteOptions): void {
    if (options.secret) return this.printSize(path, bytes.length, options);
    const text = (b: Buffer) => b.toString('utf8').replace(/^\ufeff/, '');
    this.options.print(`would write ${path}${modeNote(options)}\n${unifiedDiff(path, old ? text(old) : null, text(bytes))}`);
  }

  private printSize(path: string, size: number, options: WriteOptions): void {
    this.options.print(`would write ${path}${modeNote(options)} (${size} bytes, content not shown)\n`);
  }

  async remove(path: string): Promise<boolean> {
    const real = await resolveInRoot(this.options.root, path, false);
    if (!(await lstat(real).catch(() => null))) return false;
    if (this.options.dryRun) {
      this.options.print(`would remove ${path}\n`);
      return true;
    }
    await rm(real, { recursive: true, force: true });
    return true;
  }

  async link(path: string, target: string): Promise<boolean> {
    const real = await resolveInRoot(this.options.root, path, false);
    if ((await readlink(real).catch(() => null)) === target) return false;
    if (this.options.dryRun) {
      this.options.print(`would link ${path} -> ${target}\n`);
      return true;
    }
    await mkdir(posix.dirname(real), { recursive: true });
    await replaceSymlink(real, target);
    return true;
  }

  async mkdir(path: string, mode: number): Promise<void> {
    const real = await resolveInRoot(this.options.root, path);
    const info = await stat(real).catch(() => null);
    if (info && !info.isDirectory()) throw new Error(`${path} exists and is not a directory`);
    const modes = hasModes(path);
    if (info && (!modes || (info.mode & 0o7777) === mode)) return;
    if (this.options.dryRun) {
      this.options.print(modes ? `would ${info ? 'set' : 'create'} ${path}/ mode ${mode.toString(8).padStart(4, '0')}\n` : `would create ${path}\\\n`);
      return;
    }
    if (!info) await mkdir(real, { recursive: true });
    if (modes) await chmod(real, mode);
  }
}
