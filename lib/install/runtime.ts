/**
 * Which C runtime the Linux executable starts with on a guest, and laying it out there.
 *
 * A release archive's `linux/` folder holds the launcher `sdc-guest` and `runtime/`: the Node
 * executable (`runtime/sdc-guest`), a private glibc (the loader and the libraries it needs, from
 * Debian), their licences and `requirements.json` (the symbol versions the executable and its
 * native addons need from each library). `chooseRuntime` tells whether the guest's own libraries
 * meet those needs ("direct": the executable runs as it is) or not ("private": it starts through
 * the launcher and the private glibc); `installLinuxExecutable` lays out either way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { publishFolder, replaceFile, replaceSymlink } from '../fs/atomic-write';
import { resolveInRoot } from '../guest/files';
import { ElfError, readElfDynamic, type ElfDynamic } from './elf';

/** The private loader's name; the launcher starts `runtime/<LOADER>`. */
export const LOADER = 'ld-linux-x86-64.so.2';
/** In the runtime folder: what the executable and its addons need, written by the build. */
export const REQUIREMENTS = 'requirements.json';
/** Where the installer puts the executable, and the launcher with the private runtime when needed. */
export const INSTALLED_EXECUTABLE = '/usr/sbin/sdc-guest';
export const PRIVATE_RUNTIME_HOME = '/usr/lib/sdc-guest';

export interface Requirements {
  /** PT_INTERP of the executable. */
  interpreter: string;
  /** Symbol versions needed, by library soname. */
  needs: Record<string, string[]>;
}

export interface RuntimeChoice {
  mode: 'direct' | 'private';
  /** One line for the log: what the guest has, and why this mode. */
  reason: string;
}

/** The Linux tools as shipped: the launcher and the runtime folder (executable, glibc, licences). */
export interface ShippedLinuxTools {
  launcher: string;
  runtimeDir: string;
}

/** Where a guest's loader looks for libraries when its cache does not say otherwise. */
const GUEST_LIBRARY_DIRS = ['/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'];
const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1';

function readElfOrNull(path: string): ElfDynamic | null {
  try {
    return statSync(path).isFile() ? readElfDynamic(path) : null;
  } catch (err) {
    if (err instanceof ElfError || (err as NodeJS.ErrnoException).code) return null;
    throw err;
  }
}

/** The highest `PREFIX_x.y[.z]` version among `defs`, as `x.y[.z]`. */
function highest(defs: string[], prefix: string): string | null {
  const versions = defs.filter((d) => d.startsWith(prefix) && /^[\d.]+$/.test(d.slice(prefix.length))).map((d) => d.slice(prefix.length));
  const key = (v: string) => v.split('.').map(Number);
  versions.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  return versions.at(-1) ?? null;
}

/** A library as a loader would find it, with the versions it defines. */
export interface FoundLibrary {
  path: string;
  defs: string[];
}

/** A library that is missing (`lib` null) or lacks symbol versions. */
export interface UnmetNeed {
  soname: string;
  lib: FoundLibrary | null;
  missing: string[];
}

/** The first need that `find` cannot meet, or null when every library is found and defines every version asked of it. */
export function unmetNeed(needs: Record<string, string[]>, find: (soname: string) => FoundLibrary | null): UnmetNeed | null {
  for (const soname of Object.keys(needs).sort()) {
    const lib = find(soname);
    const missing = lib ? needs[soname].filter((v) => !lib.defs.includes(v)) : needs[soname];
    if (!lib || missing.length > 0) return { soname, lib, missing };
  }
  return null;
}

/** `no libstdc++.so.6`, or `/lib64/libc.so.6 (glibc 2.17) lacks GLIBC_2.25, GLIBC_2.28`. */
export function describeUnmet({ soname, lib, missing }: UnmetNeed): string {
  if (!lib) return `no ${soname}`;
  const glibc = highest(lib.defs, 'GLIBC_');
  return `${lib.path}${glibc ? ` (glibc ${glibc})` : ''} lacks ${missing.join(', ')}`;
}

/** The guest's libraries by soname, as its loader would take them: the first x86-64 ELF file of that name. */
async function guestLibraries(root: string, sonames: string[]): Promise<Map<string, FoundLibrary>> {
  const found = new Map<string, FoundLibrary>();
  for (const soname of sonames) {
    for (const dir of GUEST_LIBRARY_DIRS) {
      const elf = readElfOrNull(await resolveInRoot(root, `${dir}/${soname}`));
      if (elf) {
        found.set(soname, { path: `${dir}/${soname}`, defs: elf.versionDefs });
        break;
      }
    }
  }
  return found;
}

export function readRequirements(runtimeDir: string): Requirements {
  const text = readFileSync(join(runtimeDir, REQUIREMENTS), 'utf8');
  const parsed = JSON.parse(text) as Requirements;
  if (typeof parsed.interpreter !== 'string' || typeof parsed.needs !== 'object') throw new Error(`${join(runtimeDir, REQUIREMENTS)}: not a requirements file`);
  return parsed;
}

/**
 * Direct when the guest under `root` has the executable's loader and libraries with every symbol
 * version the executable and its addons need; private otherwise (old glibc, musl, no C library,
 * no libstdc++). Reads the guest's files only; runs nothing.
 */
export async function chooseRuntime(root: string, requirements: Requirements): Promise<RuntimeChoice> {
  if (!readElfOrNull(await resolveInRoot(root, requirements.interpreter))) {
    const what = existsSync(await resolveInRoot(root, MUSL_LOADER)) ? 'a musl C library' : 'no glibc';
    return { mode: 'private', reason: `the guest has ${what} (no ${requirements.interpreter}): the private glibc runtime` };
  }
  const libraries = await guestLibraries(root, [...Object.keys(requirements.needs), 'libc.so.6']);
  const unmet = unmetNeed(requirements.needs, (soname) => libraries.get(soname) ?? null);
  if (unmet) return { mode: 'private', reason: `the guest${unmet.lib ? "'s" : ' has'} ${describeUnmet(unmet)}: the private glibc runtime` };
  const libc = libraries.get('libc.so.6');
  const version = libc && highest(libc.defs, 'GLIBC_');
  return { mode: 'direct', reason: `the guest's libraries${version ? ` (glibc ${version})` : ''} run the executable directly` };
}

/** The shipped tools next to the running executable (a release archive's `linux/`, or an installed private runtime). */
export function runningShippedTools(): ShippedLinuxTools {
  const runtimeDir = dirname(process.execPath);
  if (!existsSync(join(runtimeDir, REQUIREMENTS))) {
    throw new Error(`${process.execPath} was not started from a release archive's linux/ folder (no ${REQUIREMENTS} beside it)`);
  }
  return { launcher: join(dirname(runtimeDir), 'sdc-guest'), runtimeDir };
}

/** Every file under `dir`, relative, sorted; symbolic links count as the files they point to. */
export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix))
    .sort()
    .flatMap((name) => {
      const rel = prefix ? `${prefix}/${name}` : name;
      return statSync(join(dir, rel)).isDirectory() ? filesUnder(dir, rel) : [rel];
    });
}

async function contentId(dir: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of files) {
    hash.update(`${rel}\0${statSync(join(dir, rel)).mode & 0o777}\0`);
    for await (const chunk of createReadStream(join(dir, rel))) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function copyFileDurably(source: string, dest: string, mode: number): Promise<void> {
  await replaceFile(dest, async (file) => {
    for await (const chunk of createReadStream(source)) await file.write(chunk as Buffer);
  }, { mode });
}

export interface InstallOptions {
  /** Say what would be done, change nothing. */
  dryRun?: boolean;
  log?: (line: string) => void;
}

/**
 * Lays out the executable under `root` for `choice`:
 *
 * - direct: `/usr/sbin/sdc-guest` is the executable; a private runtime from before is removed;
 * - private: `/usr/lib/sdc-guest/` holds the launcher and `runtime` -> `runtime-<content id>/`
 *   (the executable, the glibc, the licences), and `/usr/sbin/sdc-guest` links to the launcher.
 *
 * Every file lands by rename, and the new runtime folder is complete before `runtime` points to
 * it, so a tool started at any moment finds an old or a new whole runtime. The tool names
 * (`mdata-get`, ...) are the caller's: links to `/usr/sbin/sdc-guest` work in both modes.
 */
export async function installLinuxExecutable(root: string, shipped: ShippedLinuxTools, choice: RuntimeChoice, options: InstallOptions = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  // The folders resolve inside the root; the names themselves are replaced, never followed.
  const bin = await resolveInRoot(root, INSTALLED_EXECUTABLE, false);
  const home = await resolveInRoot(root, PRIVATE_RUNTIME_HOME, false);
  log(`${INSTALLED_EXECUTABLE}: ${choice.mode === 'direct' ? 'the executable' : `a link to the launcher in ${PRIVATE_RUNTIME_HOME}`} (${choice.reason})`);
  if (options.dryRun) return;
  await mkdir(dirname(bin), { recursive: true, mode: 0o755 });
  if (choice.mode === 'direct') {
    await copyFileDurably(join(shipped.runtimeDir, 'sdc-guest'), bin, 0o755);
    if (existsSync(home)) {
      await rm(home, { recursive: true, force: true });
      log(`removed the private runtime ${PRIVATE_RUNTIME_HOME}`);
    }
    return;
  }
  await mkdir(home, { recursive: true, mode: 0o755 });
  const files = filesUnder(shipped.runtimeDir);
  const name = `runtime-${await contentId(shipped.runtimeDir, files)}`;
  if (!existsSync(join(home, name))) {
    await publishFolder(join(home, name), async (temp) => {
      for (const rel of files) {
        await mkdir(dirname(join(temp, rel)), { recursive: true, mode: 0o755 });
        await copyFileDurably(join(shipped.runtimeDir, rel), join(temp, rel), statSync(join(shipped.runtimeDir, rel)).mode & 0o777);
      }
    });
  }
  await copyFileDurably(shipped.launcher, join(home, 'sdc-guest'), 0o755);
  await replaceSymlink(join(home, 'runtime'), name);
  await replaceSymlink(bin, posix.relative(posix.dirname(INSTALLED_EXECUTABLE), `${PRIVATE_RUNTIME_HOME}/sdc-guest`));
  for (const old of readdirSync(home).filter((n) => n !== name && /^\.?runtime-[0-9a-f]{16}($|\.)/.test(n))) {
    await rm(join(home, old), { recursive: true, force: true });
  }
  log(`${PRIVATE_RUNTIME_HOME}/${name}: ${files.length} files`);
}
