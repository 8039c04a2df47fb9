/**
 * Which C runtime the Linux executable starts with on a guest, and what the installer lays out
 * for it.
 *
 * A release archive's `linux/` folder holds the launcher `sdc-guest` and `runtime/`: the Node
 * executable (`runtime/sdc-guest`), a private glibc (the loader and the libraries it needs, from
 * Debian), their licences and `requirements.json` (the symbol versions the executable and its
 * native addons need from each library). `chooseRuntime` tells whether the guest's own libraries
 * meet those needs ("direct": the executable runs as it is) or not ("private": it starts through
 * the launcher and the private glibc); `executablePlacements` says what goes where for either.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { resolveInRoot } from '../guest/files';
import { SDC_GUEST } from './boot-hook';
import { ElfError, readElfDynamic, type ElfDynamic } from './elf';
import { LOADER, REQUIREMENTS } from './runtime-names';

/** Where the launcher and the private runtime are installed when the guest needs them. */
export const PRIVATE_RUNTIME_HOME = '/usr/lib/sdc-guest';

export interface Requirements {
  /** PT_INTERP of the executable. */
  interpreter: string;
  /** Symbol versions needed, by library soname. */
  needs: Record<string, string[]>;
}

interface RuntimeChoice {
  mode: 'direct' | 'private';
  /** One line for the log: what the guest has, and why this mode. */
  reason: string;
}

/** The Linux tools to install, as found from a file (`linuxToolsAt`). */
export interface LinuxTools {
  /** The Node executable. */
  executable: string;
  /** The runtime folder (the executable, the private glibc, licences, requirements) and the launcher beside it, when shipped. */
  runtime: { dir: string; launcher: string } | null;
  /** The folder the tools came from (an archive's `linux/`, `dist/...`, `/usr/lib/sdc-guest`): where the man pages are looked for. */
  folder: string;
}

/** A file or a link the installer puts at a guest path. */
export type Placement = { path: string; source: string; mode: number } | { path: string; link: string };

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
interface FoundLibrary {
  path: string;
  defs: string[];
}

/** A library that is missing (`lib` null) or lacks symbol versions. */
interface UnmetNeed {
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

function readRequirements(runtimeDir: string): Requirements {
  const text = readFileSync(join(runtimeDir, REQUIREMENTS), 'utf8');
  const parsed = JSON.parse(text) as Requirements;
  if (typeof parsed.interpreter !== 'string' || typeof parsed.needs !== 'object') throw new Error(`${join(runtimeDir, REQUIREMENTS)}: not a requirements file`);
  return parsed;
}

/** What the tools need: the runtime's requirements.json, or, for a lone executable, its own ELF needs (its addons' not known). */
function requirementsOf(tools: LinuxTools): Requirements {
  if (tools.runtime) return readRequirements(tools.runtime.dir);
  const elf = readElfDynamic(tools.executable);
  if (!elf.interpreter) throw new Error(`${tools.executable} is not a dynamically linked executable`);
  return { interpreter: elf.interpreter, needs: elf.versionNeeds };
}

/**
 * Direct when the guest under `root` has the executable's loader and libraries with every symbol
 * version the executable and its addons need; private otherwise (old glibc, musl, no C library,
 * no libstdc++). Reads the guest's files only; runs nothing.
 */
export async function chooseRuntime(root: string, tools: LinuxTools): Promise<RuntimeChoice> {
  const requirements = requirementsOf(tools);
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

/** A runtime folder: one that holds requirements.json (its real path), or null. */
function runtimeFolder(dir: string): string | null {
  return existsSync(join(dir, REQUIREMENTS)) ? realpathSync(dir) : null;
}

/**
 * The tools `path` belongs to: the private loader this process runs as under the launcher, a
 * launcher with `runtime/` beside it, the executable in a runtime folder, a build's
 * `dist/linux-x64/sdc-guest` (its runtime is `dist/linux-x64-runtime/runtime`), or a lone
 * executable (no runtime: direct only).
 */
export function linuxToolsAt(path: string): LinuxTools {
  const real = realpathSync(path);
  const dir = dirname(real);
  const built = join(dir, '..', 'linux-x64-runtime', 'runtime');
  const runtimeDir =
    (basename(real) === LOADER ? runtimeFolder(dir) : null) ??
    runtimeFolder(join(dir, 'runtime')) ??
    runtimeFolder(dir) ??
    (existsSync(join(built, 'sdc-guest')) && realpathSync(join(built, 'sdc-guest')) === real ? runtimeFolder(built) : null);
  if (!runtimeDir) return { executable: real, runtime: null, folder: dir };
  const launcher = join(dirname(runtimeDir), 'sdc-guest');
  return { executable: join(runtimeDir, 'sdc-guest'), runtime: { dir: runtimeDir, launcher }, folder: dirname(runtimeDir) };
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

/** Folders the addons may have been extracted to, inside an installed runtime (the last fallback): not part of it. */
const EXTRACTED_ADDONS = /^mdata-native-/;

/**
 * What goes where for `choice`, in order:
 *
 * - direct: `/usr/sbin/sdc-guest` is the executable;
 * - private: `/usr/lib/sdc-guest/runtime-<content id>/` gets the runtime folder's files (the
 *   executable, the glibc, the licences), `/usr/lib/sdc-guest/sdc-guest` the launcher, then
 *   `/usr/lib/sdc-guest/runtime` is pointed at the new folder and `/usr/sbin/sdc-guest` at the
 *   launcher. A new runtime folder is complete before the link points to it, so a tool started
 *   during an upgrade gets a whole old or a whole new runtime.
 *
 * The tool names (`mdata-get`, ...) link to `/usr/sbin/sdc-guest` either way. Throws, before
 * anything is placed, when the guest needs the private runtime and the tools have none.
 */
export async function executablePlacements(tools: LinuxTools, choice: RuntimeChoice): Promise<Placement[]> {
  if (choice.mode === 'direct') return [{ path: SDC_GUEST, source: tools.executable, mode: 0o755 }];
  if (!tools.runtime) {
    throw new Error(`${choice.reason}, but ${tools.executable} has no runtime folder beside it: install with a release archive's linux/sdc-guest`);
  }
  const { dir, launcher } = tools.runtime;
  const files = filesUnder(dir).filter((rel) => !EXTRACTED_ADDONS.test(rel));
  const folder = `runtime-${await contentId(dir, files)}`;
  return [
    ...files.map((rel) => ({ path: `${PRIVATE_RUNTIME_HOME}/${folder}/${rel}`, source: join(dir, rel), mode: statSync(join(dir, rel)).mode & 0o777 })),
    { path: `${PRIVATE_RUNTIME_HOME}/sdc-guest`, source: launcher, mode: 0o755 },
    { path: `${PRIVATE_RUNTIME_HOME}/runtime`, link: folder },
    { path: SDC_GUEST, link: posix.relative(posix.dirname(SDC_GUEST), `${PRIVATE_RUNTIME_HOME}/sdc-guest`) },
  ];
}
