/**
 * VirtIO drivers from the upstream virtio-win release (an ISO or an extracted folder), checked
 * against drivers/manifest.json and copied into windows/drivers/<driver>/<os>/<arch>/.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { openIso } from '../lib/iso9660/reader';
import { hashFile } from './common';

export interface DriversManifest {
  virtioWin: { version: string; url: string; sha256: string | null };
  arch: string;
  targets: string[];
  drivers: { name: string; files: string[]; driverVer: string | null }[];
}

/** One line per problem found; the packer prints them all and writes nothing. */
export class DriverCheckError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export function loadManifest(path: string): DriversManifest {
  const m = JSON.parse(readFileSync(path, 'utf8')) as DriversManifest;
  const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
  const ok = isText(m?.virtioWin?.version) && isText(m.virtioWin.url) && (m.virtioWin.sha256 === null || /^[0-9a-f]{64}$/.test(m.virtioWin.sha256))
    && isText(m.arch) && Array.isArray(m.targets) && m.targets.every(isText) && Array.isArray(m.drivers)
    && m.drivers.every((d) => isText(d.name) && Array.isArray(d.files) && d.files.some((f) => /\.inf$/i.test(f)) && (d.driverVer === null || isText(d.driverVer)));
  if (!ok) throw new Error(`${path}: not a valid drivers manifest (see drivers/README.md)`);
  return m;
}

/** The files of a virtio-win release, looked up case-insensitively as Windows does. */
interface DriverSource {
  has(path: string): boolean;
  read(path: string): Promise<Buffer>;
  copy(path: string, dest: string): Promise<void>;
  close(): Promise<void>;
}

async function openIsoSource(isoPath: string): Promise<DriverSource> {
  const iso = await openIso(isoPath);
  const byLowerPath = new Map(iso.entries.filter((e) => e.type === 'file').map((e) => [e.path.toLowerCase(), e.path]));
  const real = (path: string) => byLowerPath.get(path.toLowerCase())!;
  return {
    has: (path) => byLowerPath.has(path.toLowerCase()),
    read: (path) => iso.readFile(real(path)),
    copy: (path, dest) => iso.copyFile(real(path), dest),
    close: () => iso.close(),
  };
}

async function openFolderSource(dir: string): Promise<DriverSource> {
  const byLowerPath = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/');
    byLowerPath.set(path.toLowerCase(), path);
  }
  const real = (path: string) => join(dir, byLowerPath.get(path.toLowerCase())!);
  return {
    has: (path) => byLowerPath.has(path.toLowerCase()),
    read: (path) => Promise.resolve(readFileSync(real(path))),
    copy: (path, dest) => copyFile(real(path), dest),
    close: () => Promise.resolve(),
  };
}

/** The DriverVer value of an .inf ("MM/DD/YYYY,a.b.c.d"), which may be UTF-16 or 8-bit text. */
export function driverVer(inf: Buffer): string | undefined {
  let text: string;
  if (inf[0] === 0xff && inf[1] === 0xfe) text = inf.subarray(2).toString('utf16le');
  else if (inf[0] === 0xfe && inf[1] === 0xff) text = Buffer.from(inf.subarray(2)).swap16().toString('utf16le');
  else text = inf.toString('latin1');
  const match = /^\s*DriverVer\s*=\s*([^;\r\n]*)/im.exec(text);
  return match?.[1].replace(/\s+/g, '');
}

/**
 * Checks virtio-win at `virtioWin` against the manifest and copies the listed files to
 * `destDir/<driver>/<os>/<arch>/`. Returns the copied paths, relative to destDir.
 */
export async function importDrivers(virtioWin: string, manifest: DriversManifest, destDir: string, log: (msg: string) => void): Promise<string[]> {
  const { version, sha256: pinned } = manifest.virtioWin;
  const info = await stat(virtioWin).catch(() => null);
  if (!info) throw new DriverCheckError([`VIRTIO_WIN=${virtioWin}: no such file or folder`]);
  let source: DriverSource;
  if (info.isDirectory()) {
    log(`virtio-win: folder ${virtioWin} (a folder has no sha256 to check; DriverVer is still checked)`);
    source = await openFolderSource(virtioWin);
  } else {
    log(`virtio-win: hashing ${virtioWin}`);
    const actual = await hashFile(virtioWin);
    if (pinned === null) {
      throw new DriverCheckError([`virtio-win ${version}: drivers/manifest.json pins no sha256; ${virtioWin} has sha256 ${actual}: check it against upstream and set virtioWin.sha256`]);
    }
    if (actual !== pinned) {
      throw new DriverCheckError([`virtio-win sha256 mismatch: ${virtioWin} has ${actual}, drivers/manifest.json pins ${pinned} (virtio-win ${version})`]);
    }
    source = await openIsoSource(virtioWin).catch((err: Error) => {
      throw new DriverCheckError([`${virtioWin}: cannot read as an ISO image: ${err.message}`]);
    });
  }
  try {
    const problems: string[] = [];
    const copies: string[] = [];
    for (const driver of manifest.drivers) {
      for (const os of manifest.targets) {
        const dir = `${driver.name}/${os}/${manifest.arch}`;
        for (const file of driver.files) {
          const path = `${dir}/${file}`;
          if (!source.has(path)) {
            problems.push(`virtio-win ${version}: ${path} is missing`);
            continue;
          }
          copies.push(path);
          if (!/\.inf$/i.test(file)) continue;
          const found = driverVer(await source.read(path));
          if (driver.driverVer === null) {
            problems.push(`virtio-win ${version}: drivers/manifest.json pins no DriverVer for ${driver.name}; ${path} has ${found ?? 'none'}`);
          } else if (found !== driver.driverVer.replace(/\s+/g, '')) {
            problems.push(`virtio-win ${version}: ${path} has DriverVer ${found ?? '(none)'}, drivers/manifest.json expects ${driver.driverVer}`);
          }
        }
      }
    }
    if (problems.length) throw new DriverCheckError(problems);
    for (const path of copies) {
      const [name, os, arch, file] = path.split('/');
      await mkdir(join(destDir, name, os, arch), { recursive: true });
      await source.copy(path, join(destDir, name, os, arch, file));
    }
    log(`virtio-win ${version}: ${copies.length} files for ${manifest.drivers.map((d) => d.name).join(', ')} on ${manifest.targets.join(', ')}`);
    return copies;
  } finally {
    await source.close();
  }
}
