import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(__dirname, '..');

/** The bounds of every command the build runs: 5 minutes, 16 MiB of output. */
export const BOUNDED = { timeout: 300_000, maxBuffer: 16 << 20 };

/** A git command in the checkout; throws one clear line when git or the checkout is missing. */
export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { ...BOUNDED, cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString().trim();
  } catch {
    throw new Error(`git ${args.join(' ')} failed: the version and the default SOURCE_DATE_EPOCH come from the git checkout`);
  }
}

/** The short commit the tools report with --version; `unknown` outside a checkout. */
export function sourceCommit(): string {
  try {
    return git(['rev-parse', '--short', 'HEAD']);
  } catch {
    return 'unknown';
  }
}

/** Progress lines a person can follow: `<prefix>: [  12.3s] message`. */
export function stepLogger(prefix: string): (msg: string) => void {
  const started = Date.now();
  return (msg) => console.log(`${prefix}: [${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

/** A file's digest, streamed (the executables are 100 MB). */
export async function hashFile(path: string, algorithm: 'sha256' | 'sha512' = 'sha256', encoding: 'hex' | 'base64' = 'hex'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

/** Folders and files whose content the bundles and executables are built from. */
const SOURCE_PATHS = ['cmd', 'lib', 'package.json', 'package-lock.json'];

/** One hash of every source file the tools are built from, to tell a stale build from a fresh one. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (rel: string): void => {
    const full = join(root, rel);
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) walk(join(rel, name));
    } else {
      hash.update(`${rel}\0`).update(readFileSync(full)).update('\0');
    }
  };
  SOURCE_PATHS.forEach(walk);
  return hash.digest('hex');
}

/** The stamp a build leaves in its output folder; tests compare it with `sourceHash()`. */
export const SOURCE_STAMP = '.source-hash';

const prebuilds = join(root, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds');

/** The native addons the executables carry as SEA assets, by asset name (lib/native/load-addon.ts reads them). */
export const SEA_ASSET_SOURCES: Record<string, string> = {
  'serialport-linux-x64.node': join(prebuilds, 'linux-x64', '@serialport+bindings-cpp.glibc.node'),
  'serialport-win32-x64.node': join(prebuilds, 'win32-x64', '@serialport+bindings-cpp.node'),
  'fcntl-lock-linux-x64.node': join(root, 'dist', 'native', 'fcntl-lock-linux-x64.node'),
};
