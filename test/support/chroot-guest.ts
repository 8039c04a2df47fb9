import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPackages } from '../../build/debian';
import { stageArchiveLinux } from './archive-linux';
import { startUntil, stop } from './processes';
import { runTool, type ToolCommand, type ToolResult } from './run-tool';

/** Why a chroot guest cannot be made here, or null when it can (root, for chroot and mount namespaces). */
export function chrootUnavailable(): string | null {
  return process.getuid?.() === 0 ? null : 'a chroot guest needs root (chroot, unshare --mount)';
}

/**
 * A guest with no C library at all: a chroot holding only Debian's static busybox (from the
 * busybox-static package, extracted, not installed) and what `sdc-guest install`, run inside it
 * from the release archives' linux/ folder, put there. A private mount namespace, held open by
 * a helper process, gives it the host's /dev (so a pty bridged to a metadata server is there), a
 * /proc, and `share` at the same path as outside (for the unpacked archive, sockets and pty
 * links); the mounts end with the helper.
 */
export class ChrootGuest {
  readonly dir = mkdtempSync(join(tmpdir(), 'sdc-chroot-'));
  readonly share = mkdtempSync(join(tmpdir(), 'sdc-chroot-share-'));
  /** The archive's linux/ folder, in `share`. */
  readonly archive = join(this.share, 'sdc-vm-tools', 'linux');
  /** What `sdc-guest install` said, run inside the guest. */
  installed?: ToolResult;
  private holder?: ChildProcess;

  async start(log: (line: string) => void = () => undefined): Promise<this> {
    const [busybox] = await debianPackages(['busybox-static'], log);
    for (const d of ['bin', 'dev', 'proc', 'tmp', this.share.slice(1)]) mkdirSync(join(this.dir, d), { recursive: true });
    copyFileSync(join(busybox.dir, 'bin', 'busybox'), join(this.dir, 'bin', 'busybox'));
    symlinkSync('busybox', join(this.dir, 'bin', 'sh'));
    stageArchiveLinux(join(this.share, 'sdc-vm-tools'));
    this.holder = await holdMountNamespace(this.dir, this.share);
    this.installed = await runTool(() => this.inside(join(this.archive, 'sdc-guest')), 'sdc-guest', ['install'], { killAfterMs: 120_000 });
    if (this.installed.code !== 0) throw new Error(`sdc-guest install in the chroot exited ${this.installed.code}: ${this.installed.stderr}`);
    return this;
  }

  /** Runs a tool as `/usr/sbin/<tool>` inside the guest. */
  readonly command: ToolCommand = (tool) => this.inside(`/usr/sbin/${tool}`);

  /** `nsenter` + `chroot` arguments that run `path` inside the guest (or, for comparison, in another root). */
  inside(path: string, root = this.dir): { file: string; args: string[] } {
    if (!this.holder?.pid) throw new Error('the chroot guest is not started');
    return { file: 'nsenter', args: ['--target', String(this.holder.pid), '--mount', '--', 'chroot', root, path] };
  }

  async close(): Promise<void> {
    await stop(this.holder);
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.share, { recursive: true, force: true });
  }
}

/** Starts the helper that holds the guest's mount namespace; it ends when its stdin closes (with us). */
async function holdMountNamespace(dir: string, share: string): Promise<ChildProcess> {
  const script = [
    'set -e',
    'mount --rbind /dev "$DIR/dev"',
    'mount -t proc proc "$DIR/proc"',
    'mount --bind "$SHARE" "$DIR$SHARE"',
    'echo ready >&2',
    'exec cat >/dev/null',
  ].join('\n');
  const env = { ...process.env, DIR: dir, SHARE: share };
  return (await startUntil('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], /^ready$/m, 10_000, { env, stdinPipe: true })).child;
}
