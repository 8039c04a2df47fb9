// The Debian root every test guest starts from: built once with mmdebstrap from Debian's packages,
// cached under .cache/vm/ and keyed by a hash of its recipe (package list, options, hooks).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/run-tool';
import { removeTree, runCommand } from './host-commands';

const CACHE_DIR = join(repoRoot, '.cache', 'vm');
const PACKAGE_LIST = join(__dirname, 'guest-packages.txt');
/** mmdebstrap took 32-55 s here; a stuck mirror must not hold the test run forever. */
const BUILD_LIMIT_MS = 15 * 60_000;

/** A Debian cloud image's basics that minbase lacks, so the guest looks like one. */
const HOOKS = [
  'echo debian > "$1/etc/hostname"',
  'printf "127.0.0.1\\tlocalhost\\n127.0.1.1\\tdebian\\n\\n::1\\tlocalhost ip6-localhost ip6-loopback\\nff02::1\\tip6-allnodes\\nff02::2\\tip6-allrouters\\n" > "$1/etc/hosts"',
  'printf "/dev/vda\\t/\\text4\\trw,errors=remount-ro\\t0\\t1\\n" > "$1/etc/fstab"',
];

function guestPackages(): string[] {
  return readFileSync(PACKAGE_LIST, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** Everything that decides the root's content, in mmdebstrap's argument order (target and mirror follow). */
function recipe(): string[] {
  return ['--variant=minbase', '--mode=root', `--include=${guestPackages().join(',')}`, ...HOOKS.map((h) => `--customize-hook=${h}`), 'bookworm'];
}

/** The machine's own Debian sources, so the guest's packages come from the mirror apt uses here. */
function mirrorArgs(): string[] {
  return ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'].filter((f) => existsSync(f)).slice(0, 1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes roots of other recipes and half-built ones whose builder is gone: the cache holds one root. */
async function pruneCache(keep: string): Promise<void> {
  for (const name of readdirSync(CACHE_DIR)) {
    const partial = /^base-.*\.tmp-(\d+)$/.exec(name);
    const stale = partial ? !isAlive(Number(partial[1])) : name.startsWith('base-') && name !== keep;
    if (stale) await removeTree(join(CACHE_DIR, name));
  }
}

/** The cached root's directory, built first when no root of this recipe exists. */
export async function baseRoot(log: (line: string) => void = () => undefined): Promise<string> {
  const args = recipe();
  const key = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16);
  const name = `base-${key}`;
  const dir = join(CACHE_DIR, name);
  if (existsSync(dir)) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  await pruneCache(name);
  const partial = `${dir}.tmp-${process.pid}`;
  log(`building the guest root ${name} with mmdebstrap (about a minute)`);
  const started = Date.now();
  try {
    await runCommand('mmdebstrap', [...args, partial, ...mirrorArgs()], { limitMs: BUILD_LIMIT_MS });
    renameSync(partial, dir);
  } finally {
    if (existsSync(partial)) await removeTree(partial);
  }
  log(`guest root built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** The kernel and initrd inside a root's /boot (one of each: the cloud kernel). */
export function bootFiles(root: string): { kernel: string; initrd: string } {
  const names = readdirSync(join(root, 'boot'));
  const kernel = names.find((n) => n.startsWith('vmlinuz-'));
  const initrd = names.find((n) => n.startsWith('initrd.img-'));
  if (!kernel || !initrd) throw new Error(`no kernel or initrd in ${root}/boot: ${names.join(' ')}`);
  return { kernel: join(root, 'boot', kernel), initrd: join(root, 'boot', initrd) };
}
