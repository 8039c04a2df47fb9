/** The zip, made by 7-Zip (7zip-bin's 7za) through node-7z, from a staged folder. */
import { accessSync, chmodSync, constants } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { replaceFileFrom } from '../lib/fs/atomic-write';
import { path7za } from '7zip-bin';

// node-7z ships no types; this is the part of its API used here.
const Seven = require('node-7z') as {
  add(archive: string, sources: string[], options: { $bin: string; $raw: string[] }): NodeJS.EventEmitter & { _childProcess?: ChildProcess };
};

const TIMEOUT_MS = 10 * 60 * 1000;

/** 7zip-bin's 7za is installed without its exec bit. */
function sevenZip(): string {
  try {
    accessSync(path7za, constants.X_OK);
  } catch {
    chmodSync(path7za, 0o755);
  }
  return path7za;
}

function add7z(archive: string, sources: string[], raw: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const seven = Seven.add(archive, sources, { $bin: sevenZip(), $raw: raw });
    const timer = setTimeout(() => {
      seven._childProcess?.kill('SIGKILL');
      reject(new Error(`7za did not finish within ${TIMEOUT_MS / 60000} minutes`));
    }, TIMEOUT_MS);
    seven.on('data', () => {});
    seven.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`7za: ${err.message}`));
    });
    seven.on('end', () => {
      clearTimeout(timer);
      const code = seven._childProcess?.exitCode;
      if (code === 0) resolve();
      else reject(new Error(`7za exited with ${code}`));
    });
  });
}

/**
 * Zips the folder `top` (stored as `<basename>/...`) into outPath. 7-Zip sorts the entries and takes
 * modes and mtimes from the files, and writes DOS times in local time, hence TZ=UTC.
 */
export async function writeZip(outPath: string, top: string): Promise<void> {
  process.env.TZ = 'UTC';
  // 7-Zip picks the format from the name's ending: give it one.
  await replaceFileFrom(
    outPath,
    async (tmp) => {
      try {
        await add7z(`${tmp}.zip`, [top], ['-tzip', '-mx=5', '-mtc=off']);
        await rename(`${tmp}.zip`, tmp);
      } finally {
        await rm(`${tmp}.zip`, { force: true });
      }
    },
    { mode: 0o644, durable: false },
  );
}
