import { createHash } from 'node:crypto';
import { dirname, posix } from 'node:path';
import type { GuestLog, RootedFiles } from '../guest/context';
import { resolveInRoot } from '../guest/files';
import { BACKUP_DIR, type Entry, type Previous } from './manifest';
import type { Placement } from './runtime';

export interface TreeContext {
  root: string;
  dryRun: boolean;
  files: RootedFiles;
  log: GuestLog;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The files install puts under the root, each change recorded (with a backup of what it replaced)
 * before it is made, so that uninstall can take every one back. Writes go through the guest
 * files (atomic, rooted, a diff in a dry run); links are made beside their place and renamed
 * over it. Entries of an earlier install are kept as they were: a second install (an upgrade)
 * never backs up our own files, so the first backups stay.
 */
export class InstallTree {
  private readonly entries = new Map<string, Entry>();
  private readonly touched = new Set<string>();
  /** Removed in this run (a dry run only pretends): a folder holding nothing else counts as empty. */
  private readonly removed = new Set<string>();
  /** Folders made in this run. */
  private readonly made = new Set<string>();

  constructor(
    private readonly ctx: TreeContext,
    earlier: Entry[] = [],
  ) {
    for (const entry of earlier) this.entries.set(entry.path, entry);
  }

  /** Every change, earlier installs' first, in the order made. */
  list(): Entry[] {
    return [...this.entries.values()];
  }

  /** Changes of an earlier install that this run did not make again. */
  untouched(): Entry[] {
    return this.list().filter((e) => !this.touched.has(e.path));
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  forget(entry: Entry): void {
    this.entries.delete(entry.path);
  }

  /** Records a change made by a command (`systemctl enable`), before it is made. */
  record(entry: Entry): void {
    this.keep(entry.path);
    if (!this.entries.has(entry.path)) this.entries.set(entry.path, entry);
  }

  /** This run makes the change at `path` again: its earlier record stays, with its backup and the backup's folders. */
  private keep(path: string): void {
    this.touched.add(path);
    const earlier = this.entries.get(path);
    if (!earlier || !('previous' in earlier) || earlier.previous.type !== 'file') return;
    for (let dir = dirname(earlier.previous.backup); dir !== '/'; dir = dirname(dir)) this.touched.add(dir);
  }

  /** The folder and its missing parents; the ones created are recorded. */
  async ensureDir(path: string, mode = 0o755): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      this.touched.add(dir);
      const info = await this.ctx.files.stat(dir);
      if (info?.isDirectory()) continue;
      if (info) throw new Error(`${dir} exists and is not a folder`);
      if (this.made.has(dir)) continue; // a dry run only said it would make it
      this.made.add(dir);
      this.record({ kind: 'dir', path: dir });
      await this.ctx.files.mkdir(dir, mode);
    }
  }

  /** Puts a file in place (mode exact); a dry run shows a diff. */
  async putFile(path: string, data: string, mode: number): Promise<boolean> {
    await this.claimFile(path);
    return this.ctx.files.write(path, data, { mode });
  }

  /** Puts a file or a link in place; a file is copied from the host (mode exact), streamed, and a dry run shows its size. */
  async place(placement: Placement): Promise<boolean> {
    if ('link' in placement) return this.putLink(placement.path, placement.link);
    await this.claimFile(placement.path);
    return this.ctx.files.copy(placement.path, placement.source, { mode: placement.mode });
  }

  async putLink(path: string, target: string): Promise<boolean> {
    await this.ensureDir(dirname(path));
    await this.claim(path, 'link');
    return this.ctx.files.link(path, target);
  }

  /**
   * Adds `line` to a file we do not own, as `change(text)` does, unless the line is there. A
   * link is followed: the file it leads to is the one edited and backed up.
   */
  async editFile(path: string, line: string, change: (text: string | null) => string, modeOf: (old: number | null) => number): Promise<boolean> {
    const real = await resolveInRoot(this.ctx.root, path);
    const target = `/${posix.relative(this.ctx.root, real)}`;
    await this.ensureDir(dirname(target));
    const old = await this.ctx.files.readText(target);
    const earlier = this.entries.get(target);
    this.keep(target);
    const text = old !== null && old.split('\n').includes(line) ? old : change(old);
    if (earlier?.kind === 'edit') {
      // Changed by someone since: uninstall only takes our line out.
      if (old === null || sha256(old) !== earlier.written || text !== old) earlier.written = null;
    } else {
      this.entries.set(target, { kind: 'edit', path: target, line, written: sha256(text), previous: await this.backup(target) });
    }
    const info = await this.ctx.files.stat(target);
    return this.ctx.files.write(target, text, { mode: modeOf(info ? info.mode & 0o7777 : null) });
  }

  /**
   * Takes one change back and forgets it; a folder that still holds something is kept, and stays
   * recorded. `enabled` entries are the caller's: they need a command.
   */
  async undo(entry: Entry): Promise<void> {
    if (entry.kind === 'enabled') throw new Error(`${entry.path}: systemctl disable takes this back`);
    if (entry.kind === 'dir' && !(await this.removeIfEmpty(entry.path))) return;
    if (entry.kind === 'file' || entry.kind === 'link') await this.restore(entry.path, entry.previous);
    if (entry.kind === 'edit') await this.undoEdit(entry);
    this.forget(entry);
  }

  private async undoEdit(entry: Entry & { kind: 'edit' }): Promise<void> {
    const text = await this.ctx.files.readText(entry.path);
    if (text === null) return this.dropBackup(entry.previous);
    if (entry.written !== null && sha256(text) === entry.written) return this.restore(entry.path, entry.previous);
    const kept = text
      .split('\n')
      .filter((l) => l !== entry.line)
      .join('\n');
    const onlyShebang = kept.split('\n').every((l, i) => l.trim() === '' || (i === 0 && l.startsWith('#!')));
    if (entry.previous.type === 'none' && onlyShebang) {
      await this.remove(entry.path);
    } else {
      const mode = entry.previous.type === 'file' ? entry.previous.mode : undefined;
      await this.ctx.files.write(entry.path, kept, { mode });
      this.ctx.log.warn(`${entry.path} was changed since install: only our line was taken out`);
    }
    await this.dropBackup(entry.previous);
  }

  async remove(path: string): Promise<void> {
    if (await this.ctx.files.remove(path)) this.removed.add(path);
  }

  /** Claims the path for a file. The guest files write through a link; the link itself is what we replace. */
  private async claimFile(path: string): Promise<void> {
    await this.ensureDir(dirname(path));
    await this.claim(path, 'file');
    if ((await this.ctx.files.lstat(path))?.isSymbolicLink()) await this.remove(path);
  }

  /** Records the path as ours; the first time, what was there is saved. */
  private async claim(path: string, kind: 'file' | 'link'): Promise<void> {
    this.keep(path);
    if (this.entries.has(path)) return;
    const previous = await this.backup(path);
    this.entries.set(path, { kind, path, previous });
  }

  /** What is at `path` now, kept so that uninstall can put it back. */
  private async backup(path: string): Promise<Previous> {
    const target = await this.ctx.files.readlink(path);
    if (target !== null) return { type: 'link', target };
    const info = await this.ctx.files.lstat(path);
    if (!info) return { type: 'none' };
    if (!info.isFile()) throw new Error(`${path} is a ${info.isDirectory() ? 'folder' : 'special file'}; not replaced`);
    const backup = `${BACKUP_DIR}${path}`;
    await this.ensureDir(dirname(backup), 0o700);
    await this.ctx.files.write(backup, (await this.ctx.files.read(path)) ?? Buffer.alloc(0), { mode: 0o600, secret: true });
    return { type: 'file', backup, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  }

  private async restore(path: string, previous: Previous): Promise<void> {
    if (previous.type === 'none') return this.remove(path);
    if (previous.type === 'link') return void (await this.ctx.files.link(path, previous.target));
    const data = await this.ctx.files.read(previous.backup);
    if (data === null) throw new Error(`the backup ${previous.backup} of ${path} is missing; ${path} left as it is`);
    if ((await this.ctx.files.lstat(path))?.isSymbolicLink()) await this.remove(path);
    await this.ctx.files.write(path, data, { mode: previous.mode, owner: { uid: previous.uid, gid: previous.gid }, secret: true });
    await this.dropBackup(previous);
  }

  private async dropBackup(previous: Previous): Promise<void> {
    if (previous.type === 'file') await this.remove(previous.backup);
  }

  /** Whether the folder is gone (or was already). */
  private async removeIfEmpty(path: string): Promise<boolean> {
    if (!(await this.ctx.files.stat(path))?.isDirectory()) return true;
    const left = (await this.ctx.files.list(path)).filter((name) => !this.removed.has(posix.join(path, name)));
    if (left.length > 0) {
      // A dry run cannot tell what commands (systemctl disable) would have removed.
      if (!this.ctx.dryRun) this.ctx.log.warn(`${path} kept: it holds ${left.length} other file(s), e.g. ${left[0]}`);
      return false;
    }
    await this.remove(path);
    return true;
  }
}
