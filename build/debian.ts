// Debian packages taken apart, not installed: `apt-get download` of the candidate version into a
// cache, checked against the SHA256 of apt's (signed) package index, then `dpkg-deb -x`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publishFolder, replaceFileFrom } from '../lib/fs/atomic-write';
import { BOUNDED, hashFile, root } from './common';

export interface DebianPackage {
  name: string;
  version: string;
  /** The source package and its version: where the source code is. */
  source: { name: string; version: string };
  /** The extracted files (`dpkg-deb -x`). */
  dir: string;
}

const CACHE = join(root, '.cache', 'debian');

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { ...BOUNDED, cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error(`${cmd} not found: the build runs on Debian with apt`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/** Fields of the candidate amd64 version of each package in apt's index (one apt-cache run). */
function candidates(names: string[]): Record<string, string>[] {
  let text = '';
  try {
    text = run('apt-cache', ['show', '--no-all-versions', ...names.map((n) => `${n}:amd64`)]);
  } catch {
    // an unknown name: told below, per package
  }
  const found = text.split(/\n\n+/).map((paragraph) => {
    const fields: Record<string, string> = {};
    for (const m of paragraph.matchAll(/^([A-Za-z0-9-]+): (.*)$/gm)) fields[m[1]] ??= m[2];
    return fields;
  });
  return names.map((name) => {
    const fields = found.find((f) => f.Package === name && f.Version && f.SHA256);
    if (!fields) throw new Error(`apt knows no ${name}:amd64 (run apt-get update)`);
    return fields;
  });
}

/** The candidate version (amd64) of each package, downloaded once, verified, and extracted. */
export async function debianPackages(names: string[], log: (line: string) => void): Promise<DebianPackage[]> {
  const result: DebianPackage[] = [];
  for (const fields of candidates(names)) result.push(await fetchAndExtract(fields, log));
  return result;
}

async function fetchAndExtract(fields: Record<string, string>, log: (line: string) => void): Promise<DebianPackage> {
  const name = fields.Package;
  const version = fields.Version;
  const [, sourceName, sourceVersion] = /^(\S+)(?: \((.*)\))?$/.exec(fields.Source ?? name) ?? [];
  const source = { name: sourceName ?? name, version: sourceVersion ?? version };
  const id = `${name}_${version.replace(/:/g, '%3a')}_amd64`;
  const deb = join(CACHE, `${id}.deb`);
  const dir = join(CACHE, id);
  // The extracted folder is all a build uses. It is published whole, and only from a .deb that
  // matched apt's index at the time; Debian never reuses a version number for other bytes. So the
  // .deb is hashed only when the folder is to be made.
  if (existsSync(dir)) return { name, version, source, dir };
  mkdirSync(CACHE, { recursive: true });
  if (!existsSync(deb) || (await hashFile(deb)) !== fields.SHA256) {
    log(`apt-get download ${name}=${version}`);
    const download = mkdtempSync(join(CACHE, '.download-'));
    try {
      run('apt-get', ['download', '-q', `${name}:amd64=${version}`], download);
      const files = readdirSync(download).filter((f) => f.endsWith('.deb'));
      if (files.length !== 1) throw new Error(`apt-get download ${name} left ${files.length} .deb files`);
      const got = await hashFile(join(download, files[0]));
      if (got !== fields.SHA256) throw new Error(`${files[0]}: sha256 ${got}, apt's index says ${fields.SHA256}`);
      await replaceFileFrom(deb, async (temp) => renameSync(join(download, files[0]), temp), { durable: false });
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  // Another build may extract the same package at the same time: either folder is whole.
  await publishFolder(dir, async (temp) => void run('dpkg-deb', ['-x', deb, temp]), { durable: false });
  return { name, version, source, dir };
}
