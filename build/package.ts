// Packs build/layout.ts into <out>/sdc-vm-tools-<version>.{iso,zip,tar.gz} and <out>/SHA256SUMS.
// Usage: package.ts (iso|zip|tar)... [--dist DIR] [--out DIR] [--virtio-win ISO|DIR] [--drivers-manifest FILE]
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/fs/atomic-write';
import { dirname, join, relative, resolve } from 'node:path';
import { writeIso, type IsoWriteEntry } from '../lib/iso9660/writer';
import { writeZip } from './archives';
import { VERSION } from '../lib/version';
import { git, hashFile, root, stepLogger } from './common';
import { DriverCheckError, importDrivers, loadManifest } from './drivers';
import { LAYOUT, type LayoutEntry } from './layout';
import { writeTarGz, type TarEntry } from './ustar';

const FORMATS = { iso: 'iso', zip: 'zip', tar: 'tar.gz' } as const;
type Format = keyof typeof FORMATS;
const VOLUME_ID = 'SDC Guest Tools';
/** The folder that holds everything in the zip and the tar.gz. */
const TOP = 'sdc-vm-tools';
/** Zip's DOS dates start in 1980. */
const MIN_EPOCH = 315532800;

interface Options {
  formats: Format[];
  distDir: string;
  outDir: string;
  virtioWin?: string;
  manifestPath: string;
}

/** A layout entry made concrete: what every archive holds at one path. */
type Item =
  | { type: 'dir'; path: string }
  | { type: 'file'; path: string; mode: number; staged: string }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

const log = stepLogger('package');

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const options: Options = { formats: [], distDir: join(root, 'dist'), outDir: join(root, 'dist'), manifestPath: join(root, 'drivers', 'manifest.json') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg in FORMATS) options.formats.push(arg as Format);
    else if (arg === '--dist') options.distDir = resolve(value());
    else if (arg === '--out') options.outDir = resolve(value());
    else if (arg === '--virtio-win') options.virtioWin = resolve(value());
    else if (arg === '--drivers-manifest') options.manifestPath = resolve(value());
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (options.formats.length === 0) throw new UsageError('name at least one of iso, zip, tar');
  return options;
}

function packageVersion(): string {
  return `${VERSION}-${git(['rev-parse', '--short', 'HEAD'])}`;
}

function sourceDateEpoch(): number {
  const text = process.env.SOURCE_DATE_EPOCH || git(['log', '-1', '--format=%ct']);
  const epoch = Number(text);
  if (!/^\d+$/.test(text) || epoch < MIN_EPOCH) throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, from 1980 on; got '${text}'`);
  return epoch;
}

const shown = (path: string) => (path.startsWith(`${root}/`) ? relative(root, path) : path);

function sourceOf(entry: LayoutEntry, options: Options): string | undefined {
  if ('built' in entry) return join(options.distDir, entry.built);
  if ('source' in entry) return join(root, entry.source);
  return undefined;
}

function checkInputs(options: Options): void {
  const missing: string[] = [];
  for (const entry of LAYOUT) {
    const source = sourceOf(entry, options);
    if (source && !existsSync(source)) missing.push(`${shown(source)} missing${'built' in entry ? ': run make build' : ''}`);
  }
  if (missing.length) throw new Error(missing.join('\n'));
}

async function stageFile(path: string, staged: string, source: string | Buffer, mode: number): Promise<Item> {
  await mkdir(dirname(staged), { recursive: true });
  if (typeof source === 'string') await copyFile(source, staged);
  else await writeFile(staged, source);
  await chmod(staged, mode);
  return { type: 'file', path, mode, staged };
}

function noDriversNote(options: Options): string {
  const { version, url } = loadManifest(options.manifestPath).virtioWin;
  return [
    'This build has no VirtIO drivers.',
    '',
    `To include them, get virtio-win ${version} (${url})`,
    'and build with: make iso zip tar VIRTIO_WIN=/path/to/virtio-win.iso',
    '',
  ].join('\r\n');
}

async function stageDrivers(path: string, top: string, options: Options): Promise<Item[]> {
  const dest = join(top, path);
  await mkdir(dest, { recursive: true });
  if (!options.virtioWin) {
    const bar = '*'.repeat(78);
    log(bar);
    log('NO VIRTIO DRIVERS: VIRTIO_WIN is not set, so windows/drivers/ holds only a note.');
    log('Get virtio-win (see drivers/README.md) and run: make iso VIRTIO_WIN=/path/to/virtio-win.iso');
    log(bar);
    const note = `${path}/README.txt`;
    return [{ type: 'dir', path }, await stageFile(note, join(top, note), Buffer.from(noDriversNote(options)), 0o644)];
  }
  const copied = await importDrivers(options.virtioWin, loadManifest(options.manifestPath), dest, log);
  const files = await Promise.all(copied.map(async (rel) => {
    const staged = join(dest, rel);
    await chmod(staged, 0o644);
    return { type: 'file' as const, path: `${path}/${rel}`, mode: 0o644, staged };
  }));
  return [{ type: 'dir', path }, ...files];
}

/** Copies the layout into top/ and returns the items in archive order: sorted, hard links last. */
async function stage(top: string, options: Options): Promise<Item[]> {
  const items: Item[] = [];
  let sumsPath: string | undefined;
  for (const entry of LAYOUT) {
    const source = sourceOf(entry, options);
    if (source && 'mode' in entry) items.push(await stageFile(entry.path, join(top, entry.path), source, entry.mode));
    else if ('symlink' in entry) items.push({ type: 'symlink', path: entry.path, target: entry.symlink });
    else if ('hardlink' in entry) items.push({ type: 'hardlink', path: entry.path, target: entry.hardlink });
    else if ('generated' in entry && entry.generated === 'drivers') items.push(...(await stageDrivers(entry.path, top, options)));
    else if ('generated' in entry) sumsPath = entry.path;
  }
  const byPath = (a: Item, b: Item) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  if (sumsPath) {
    const files = items.filter((i): i is Extract<Item, { type: 'file' }> => i.type === 'file').sort(byPath);
    const lines = await Promise.all(files.map(async (f) => `${await hashFile(f.staged)}  ${f.path}\n`));
    items.push(await stageFile(sumsPath, join(top, sumsPath), Buffer.from(lines.join('')), 0o644));
  }
  const dirs = new Set(items.filter((i) => i.type === 'dir').map((i) => i.path));
  for (const item of items) {
    for (let dir = dirname(item.path); dir !== '.'; dir = dirname(dir)) dirs.add(dir);
  }
  const all = [...items.filter((i) => i.type !== 'dir'), ...[...dirs].map((path) => ({ type: 'dir' as const, path }))];
  return [...all.filter((i) => i.type !== 'hardlink').sort(byPath), ...all.filter((i) => i.type === 'hardlink').sort(byPath)];
}

async function setTimes(top: string, items: Item[], mtime: Date): Promise<void> {
  for (const item of items) {
    if (item.type === 'file' || item.type === 'dir') await utimes(join(top, item.path), mtime, mtime);
  }
  await utimes(top, mtime, mtime);
}

function isoEntries(items: Item[], top: string): IsoWriteEntry[] {
  return items.map((item): IsoWriteEntry => {
    switch (item.type) {
      case 'dir': return { path: item.path, type: 'dir', mode: 0o755 };
      case 'file': return { path: item.path, type: 'file', source: join(top, item.path), mode: item.mode };
      case 'symlink': return { path: item.path, type: 'symlink', target: item.target };
      case 'hardlink': return { path: item.path, type: 'hardlink', target: item.target };
    }
  });
}

function tarEntries(items: Item[], top: string): TarEntry[] {
  const modes = new Map(items.map((i) => [i.path, i.type === 'file' ? i.mode : 0o755]));
  const entries: TarEntry[] = [{ path: TOP, type: 'dir', mode: 0o755 }];
  for (const item of items) {
    const path = `${TOP}/${item.path}`;
    if (item.type === 'dir') entries.push({ path, type: 'dir', mode: 0o755 });
    else if (item.type === 'file') entries.push({ path, type: 'file', mode: item.mode, source: join(top, item.path) });
    else if (item.type === 'symlink') entries.push({ path, type: 'symlink', target: item.target });
    else entries.push({ path, type: 'hardlink', mode: modes.get(item.target) ?? 0o644, target: `${TOP}/${item.target}` });
  }
  return entries;
}

/** Keeps one archive per format in the output folder: the one just written. */
async function removeOtherVersions(outDir: string, current: string, ext: string): Promise<void> {
  for (const name of await readdir(outDir)) {
    const path = join(outDir, name);
    if (name.startsWith('sdc-vm-tools-') && name.endsWith(`.${ext}`) && path !== current) {
      await rm(path);
      log(`removed the older ${shown(path)}`);
    }
  }
}

async function writeChecksums(outDir: string, version: string): Promise<void> {
  const lines: string[] = [];
  for (const ext of Object.values(FORMATS)) {
    const name = `sdc-vm-tools-${version}.${ext}`;
    if (existsSync(join(outDir, name))) lines.push(`${await hashFile(join(outDir, name))}  ${name}\n`);
  }
  await writeFileAtomic(join(outDir, 'SHA256SUMS'), lines.join(''), { mode: 0o644, durable: false });
}

async function main(options: Options): Promise<void> {
  const version = packageVersion();
  const epoch = sourceDateEpoch();
  const mtime = new Date(epoch * 1000);
  log(`sdc-vm-tools ${version}, SOURCE_DATE_EPOCH=${epoch} (${mtime.toISOString()}), formats: ${options.formats.join(' ')}`);
  checkInputs(options);
  await mkdir(options.outDir, { recursive: true });
  const stageDir = await mkdtemp(join(options.outDir, '.package-'));
  try {
    const top = join(stageDir, TOP);
    const items = await stage(top, options);
    await setTimes(top, items, mtime);
    log(`staged ${items.filter((i) => i.type === 'file').length} files, ${items.filter((i) => i.type !== 'file' && i.type !== 'dir').length} links`);
    // The zip first: 7-Zip stores access times, which reading the staged files changes.
    for (const format of (['zip', 'iso', 'tar'] as const).filter((f) => options.formats.includes(f))) {
      const out = join(options.outDir, `sdc-vm-tools-${version}.${FORMATS[format]}`);
      log(`writing ${shown(out)}`);
      if (format === 'iso') await writeIso(out, isoEntries(items, top), { volumeId: VOLUME_ID, mtime });
      else if (format === 'tar') await writeTarGz(out, tarEntries(items, top), mtime);
      else await writeZip(out, top);
      log(`wrote ${shown(out)}: ${((await stat(out)).size / 1e6).toFixed(1)} MB`);
      await removeOtherVersions(options.outDir, out, FORMATS[format]);
    }
    await writeChecksums(options.outDir, version);
    log(`wrote ${shown(join(options.outDir, 'SHA256SUMS'))}`);
    if (!options.virtioWin) log('NOTE: NO VIRTIO DRIVERS in these archives (VIRTIO_WIN was not set)');
  } finally {
    await rm(stageDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`package: ${(err as Error).message}`);
    process.exit(3);
  }
  main(options).catch((err: Error) => {
    const lines = err instanceof DriverCheckError ? err.problems : err.message.split('\n');
    for (const line of lines) console.error(`package: error: ${line}`);
    process.exit(err instanceof UsageError ? 3 : 1);
  });
}
