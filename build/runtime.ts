// Builds dist/linux-x64-runtime/, laid out as a release archive's linux/ folder: the launcher
// `sdc-guest` and `runtime/` with the private glibc the Linux executable needs (taken from Debian's
// packages), what it needs from each library (requirements.json), the licences, and a link to
// dist/linux-x64/sdc-guest so that the tree runs as it is. Checked against build/layout.ts.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { publishFolder } from '../lib/fs/atomic-write';
import { readElfDynamic, type ElfDynamic } from '../lib/install/elf';
import { resolveInRoot } from '../lib/guest/files';
import { describeUnmet, filesUnder, unmetNeed, type Requirements } from '../lib/install/runtime';
import { LOADER, REQUIREMENTS } from '../lib/install/runtime-names';
import { BOUNDED, root, SEA_ASSET_SOURCES, SOURCE_STAMP, sourceHash, stepLogger } from './common';
import { debianPackages, type DebianPackage } from './debian';
import { RUNTIME_FILES, RUNTIME_LIBRARIES } from './layout';
import { LAUNCHER } from './native';

/** The Debian packages the libraries may come from. */
const PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];
const PACKAGE_LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'usr/lib64'];
/** The C library the launcher is linked with (musl-gcc -static, build/native.ts), as installed. */
const LAUNCHER_LIBC = 'musl-dev';
const COMMON_LICENSES = '/usr/share/common-licenses';

const out = join(root, 'dist', 'linux-x64-runtime');
const executable = join(root, 'dist', 'linux-x64', 'sdc-guest');
const log = stepLogger('runtime');

interface Library {
  soname: string;
  file: string;
  elf: ElfDynamic;
  from: DebianPackage;
}

/** The loader and every library that the executable and the addons need, directly or through each other. */
async function closure(roots: ElfDynamic[], packages: DebianPackage[]): Promise<Library[]> {
  const found = new Map<string, Library>();
  const queue = [basename(roots[0].interpreter ?? LOADER), ...roots.flatMap((elf) => elf.needed)];
  while (queue.length > 0) {
    const soname = queue.shift()!;
    if (found.has(soname)) continue;
    const lib = await findLibrary(soname, packages);
    found.set(soname, lib);
    queue.push(...lib.elf.needed);
  }
  return [...found.values()].sort((a, b) => a.soname.localeCompare(b.soname));
}

async function findLibrary(soname: string, packages: DebianPackage[]): Promise<Library> {
  for (const from of packages) {
    for (const dir of PACKAGE_LIB_DIRS) {
      const file = await resolveInRoot(from.dir, `/${dir}/${soname}`);
      if (existsSync(file)) return { soname, file, elf: readElfDynamic(file), from };
    }
  }
  throw new Error(`none of the packages ${PACKAGES.join(', ')} has ${soname}; add the package that does to PACKAGES in build/runtime.ts`);
}

/** Union of the version needs, each list sorted. */
function mergedNeeds(objects: ElfDynamic[]): Record<string, string[]> {
  const needs: Record<string, Set<string>> = {};
  for (const elf of objects) {
    for (const [soname, versions] of Object.entries(elf.versionNeeds)) for (const v of versions) (needs[soname] ??= new Set()).add(v);
  }
  return Object.fromEntries(Object.keys(needs).sort().map((soname) => [soname, [...needs[soname]].sort()]));
}

/** A package's copyright file; Debian points some doc folders (libstdc++6 -> gcc-12-base) at another package's. */
async function copyrightOf(pkg: DebianPackage): Promise<string> {
  const doc = join(pkg.dir, 'usr', 'share', 'doc', pkg.name);
  if (lstatSync(doc).isSymbolicLink()) return copyrightOf((await debianPackages([basename(readlinkSync(doc))], log))[0]);
  return readFileSync(join(doc, 'copyright'), 'utf8');
}

function installed(pkg: string): { version: string; source: string; sourceVersion: string; copyright: string } {
  const fields = execFileSync('dpkg-query', ['-W', '-f', '${Version}\\t${source:Package}\\t${source:Version}', pkg], BOUNDED).toString().split('\t');
  return { version: fields[0], source: fields[1], sourceVersion: fields[2], copyright: readFileSync(`/usr/share/doc/${pkg}/copyright`, 'utf8') };
}

/** licenses/: each source package's copyright file, the licence texts they name, and a README. */
async function writeLicenses(dir: string, libraries: Library[]): Promise<void> {
  const copyrights = new Map<string, string>();
  for (const lib of libraries) if (!copyrights.has(lib.from.source.name)) copyrights.set(lib.from.source.name, await copyrightOf(lib.from));
  const musl = installed(LAUNCHER_LIBC);
  copyrights.set(musl.source, musl.copyright);

  mkdirSync(join(dir, 'common-licenses'), { recursive: true });
  const aliases: string[] = [];
  const named = new Set([...copyrights.values()].flatMap((text) => [...text.matchAll(/\/usr\/share\/common-licenses\/([\w.+-]*[\w+])/g)].map((m) => m[1])));
  for (const name of [...named].sort()) {
    const real = realpathSync(join(COMMON_LICENSES, name));
    if (basename(real) !== name) aliases.push(`${name} is ${basename(real)}`);
    copyFileSync(real, join(dir, 'common-licenses', basename(real)));
  }
  for (const [source, text] of copyrights) writeFileSync(join(dir, `${source}.copyright`), text);

  const width = Math.max(...libraries.map((l) => l.soname.length));
  const lines = [
    'The private C runtime in the folder above: files from Debian packages, unchanged.',
    '',
    ...libraries.map((l) => `  ${l.soname.padEnd(width)}  ${l.from.name} ${l.from.version} (source package ${l.from.source.name} ${l.from.source.version})`),
    '',
    `The launcher sdc-guest beside that folder is linked statically with ${LAUNCHER_LIBC} ${musl.version}`,
    `(source package ${musl.source} ${musl.sourceVersion}).`,
    '',
    'Copyright and licence terms: <source package>.copyright here, and the licence texts they',
    `name under ${COMMON_LICENSES}/ in common-licenses/${aliases.length ? ` (${aliases.join(', ')})` : ''}.`,
    'The source code is Debian\'s source package of that name and version, for example',
    `apt-get source ${libraries[0].from.source.name}=${libraries[0].from.source.version}.`,
    '',
  ];
  writeFileSync(join(dir, 'README'), lines.join('\n'));
}

async function main(): Promise<void> {
  // Before the build: a source changed while it runs must leave the runtime stale.
  const stamp = sourceHash();
  if (!existsSync(executable)) throw new Error(`missing ${relative(root, executable)}: run make executables first`);
  const exe = readElfDynamic(executable);
  const addons = ['serialport-linux-x64.node', 'fcntl-lock-linux-x64.node'].map((asset) => readElfDynamic(SEA_ASSET_SOURCES[asset]));
  if (basename(exe.interpreter ?? '') !== LOADER) throw new Error(`${relative(root, executable)} asks for the loader ${exe.interpreter}, not ${LOADER}`);

  const packages = await debianPackages(PACKAGES, log);
  log(`packages: ${packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  const libraries = await closure([exe, ...addons], packages);
  const sonames = libraries.map((l) => l.soname);
  if (sonames.join(' ') !== [...RUNTIME_LIBRARIES].sort().join(' ')) {
    throw new Error(`the executable and its addons need ${sonames.join(' ')}; build/layout.ts RUNTIME_LIBRARIES lists ${RUNTIME_LIBRARIES.join(' ')}`);
  }

  const requirements: Requirements = { interpreter: exe.interpreter!, needs: mergedNeeds([exe, ...addons]) };
  const bySoname = new Map(libraries.map((l) => [l.soname, l]));
  const find = (soname: string) => {
    const lib = bySoname.get(soname);
    return lib ? { path: `runtime/${soname}`, defs: lib.elf.versionDefs } : null;
  };
  const unmet = unmetNeed(mergedNeeds([exe, ...addons, ...libraries.map((l) => l.elf)]), find);
  if (unmet) throw new Error(`the private runtime cannot run the executable: ${describeUnmet(unmet)}`);

  rmSync(out, { recursive: true, force: true });
  const published = await publishFolder(out, async (temp) => {
    const runtime = join(temp, 'runtime');
    mkdirSync(join(runtime, 'licenses'), { recursive: true });
    copyFileSync(join(root, LAUNCHER), join(temp, 'sdc-guest'));
    for (const lib of libraries) {
      copyFileSync(lib.file, join(runtime, lib.soname));
      chmodSync(join(runtime, lib.soname), lib.soname === LOADER ? 0o755 : 0o644);
    }
    writeFileSync(join(runtime, REQUIREMENTS), `${JSON.stringify(requirements, null, 2)}\n`);
    await writeLicenses(join(runtime, 'licenses'), libraries);
    const made = filesUnder(runtime);
    const expected = [...RUNTIME_FILES].sort();
    if (made.join('\n') !== expected.join('\n')) {
      const extra = made.filter((f) => !expected.includes(f));
      const missing = expected.filter((f) => !made.includes(f));
      throw new Error(`the runtime differs from build/layout.ts RUNTIME_FILES: made but not listed: ${extra.join(' ') || '-'}; listed but not made: ${missing.join(' ') || '-'}`);
    }
    // So that the tree runs from dist/ as it would from an archive.
    symlinkSync(join('..', '..', 'linux-x64', 'sdc-guest'), join(runtime, 'sdc-guest'));
    writeFileSync(join(temp, SOURCE_STAMP), `${stamp}\n`);
  }, { durable: false });
  if (!published) log(`${relative(root, out)}: another build published it first; that one is kept`);
  const size = libraries.reduce((sum, l) => sum + lstatSync(join(out, 'runtime', l.soname)).size, 0);
  log(`${relative(root, out)}: launcher and ${libraries.length} libraries (${(size / 1e6).toFixed(1)} MB): ${sonames.join(' ')}`);
}

main().catch((err) => {
  console.error(`runtime: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
