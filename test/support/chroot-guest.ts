import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPackages } from '../../build/debian';
import { LINUX_TOOLS } from '../../build/layout';
import { chooseRuntime, installLinuxExecutable, readRequirements, type RuntimeChoice, type ShippedLinuxTools } from '../../lib/install/runtime';
import { assertFreshBuild, repoRoot, type ToolCommand } from './run-tool';
import { startUntil, stop } from './processes';

/** The build's runtime tree, laid out as a release archive's linux/ folder. */
export function builtShippedTools(): ShippedLinuxTools {
  const dir = join(repoRoot, 'dist', 'linux-x64-runtime');
  assertFreshBuild(dir);
  assertFreshBuild(join(repoRoot, 'dist', 'linux-x64'));
  return { launcher: join(dir, 'sdc-guest'), runtimeDir: join(dir, 'runtime') };
}

/** Why a chroot guest cannot be made here, or null when it can (root, for chroot and mount namespaces). */
export function chrootUnavailable(): string | null {
  return process.getuid?.() === 0 ? null : 'a chroot guest needs root (chroot, unshare --mount)';
}

/**
 * A guest with no C library at all: a chroot holding only Debian's static busybox (from the
 * busybox-static package, extracted, not installed) and what the installer lays out from the
 * build. A private mount namespace, held open by a helper process, gives it the host's /dev
 * (so a pty bridged to a metadata server is there), a /proc, and `share` at the same path as
 * outside (for sockets and pty links); the mounts end with the helper.
 */
export class ChrootGuest {
  readonly dir = mkdtempSync(join(tmpdir(), 'sdc-chroot-'));
  readonly share = mkdtempSync(join(tmpdir(), 'sdc-chroot-share-'));
  choice?: RuntimeChoice;
  private holder?: ChildProcess;

  async start(log: (line: string) => void = () => undefined): Promise<this> {
    const [busybox] = await debianPackages(['busybox-static'], log);
    for (const d of ['bin', 'dev', 'proc', 'tmp', this.share.slice(1)]) mkdirSync(join(this.dir, d), { recursive: true });
    copyFileSync(join(busybox.dir, 'bin', 'busybox'), join(this.dir, 'bin', 'busybox'));
    symlinkSync('busybox', join(this.dir, 'bin', 'sh'));

    const shipped = builtShippedTools();
    this.choice = await chooseRuntime(this.dir, readRequirements(shipped.runtimeDir));
    await installLinuxExecutable(this.dir, shipped, this.choice);
    for (const tool of LINUX_TOOLS) symlinkSync('sdc-guest', join(this.dir, 'usr', 'sbin', tool));

    this.holder = await holdMountNamespace(this.dir, this.share);
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
