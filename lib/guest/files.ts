import { chmod, lstat, mkdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';
import { unifiedDiff } from './diff';
import type { GuestLog, RootedFiles, WriteOptions } from './context';

const MAX_LINKS = 40;

/**
 * A guest path under `root`, with every symlink on the way resolved inside the root (an absolute
 * link target starts again at the root; `..` never leaves it), as a chroot would see it.
 * With `followLast` false the last component itself is not resolved.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  if (!path.startsWith('/')) throw new Error(`not an absolute guest path: ${path}`);
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
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
    const info = await lstat(hostJoin(root, candidate)).catch(() => null);
    if (!info?.isSymbolicLink() || (isLast && !followLast)) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`${path}: too many levels of symbolic links`);
    const target = await readlink(hostJoin(root, candidate));
    if (target.startsWith('/')) resolved = [];
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return hostJoin(root, resolved);
}

function hostJoin(root: string, components: string[]): string {
  return posix.join(root, ...components) || '/';
}

/** A guest path under `root`, as it is spelled (no symlink resolved). */
export function hostPath(root: string, path: string): string {
  return hostJoin(root, path.split('/').filter(Boolean));
}

export interface FileOptions {
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

  async write(path: string, data: string | Buffer, options: WriteOptions = {}): Promise<boolean> {
    const real = await resolveInRoot(this.options.root, path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const old = await readFile(real).catch(() => null);
    const info = old ? await stat(real) : null;
    const modeSame = options.mode === undefined || (info !== null && (info.mode & 0o7777) === options.mode);
    const ownerSame = !options.owner || (info !== null && info.uid === options.owner.uid && info.gid === options.owner.gid);
    if (old?.equals(bytes) && modeSame && ownerSame) return false;
    if (this.options.dryRun) {
      this.printChange(path, old, bytes, options);
      return true;
    }
    await mkdir(posix.dirname(real), { recursive: true });
    await writeFileAtomic(real, bytes, { mode: options.mode, owner: options.owner, warn: (m) => this.options.log.warn(m) });
    return true;
  }

  private printChange(path: string, old: Buffer | null, bytes: Buffer, options: WriteOptions): void {
    const mode = options.mode === undefined ? '' : ` mode ${options.mode.toString(8).padStart(4, '0')}`;
    if (options.secret) {
      this.options.print(`would write ${path}${mode} (${bytes.length} bytes, content not shown)\n`);
    } else {
      this.options.print(`would write ${path}${mode}\n${unifiedDiff(path, old?.toString('utf8') ?? null, bytes.toString('utf8'))}`);
    }
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

  async mkdir(path: string, mode: number): Promise<void> {
    const real = await resolveInRoot(this.options.root, path);
    const info = await stat(real).catch(() => null);
    if (info && !info.isDirectory()) throw new Error(`${path} exists and is not a directory`);
    if (info && (info.mode & 0o7777) === mode) return;
    if (this.options.dryRun) {
      this.options.print(`would ${info ? 'set' : 'create'} ${path}/ mode ${mode.toString(8).padStart(4, '0')}\n`);
      return;
    }
    if (!info) await mkdir(real, { recursive: true });
    await chmod(real, mode);
  }
}
