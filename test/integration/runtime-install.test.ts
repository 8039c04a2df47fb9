// lib/install/runtime.ts: which runtime a guest root needs (roots made of real libraries, and of
// libraries that gcc builds with an old glibc's symbol versions), where the tools come from, and
// `sdc-guest install` laying out either runtime, through the launcher as from an archive.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTIME_FILES } from '../../build/layout';
import { resolveInRoot } from '../../lib/guest/files';
import { readElfDynamic } from '../../lib/install/elf';
import { chooseRuntime, linuxToolsAt, type LinuxTools } from '../../lib/install/runtime';
import { LOADER } from '../../lib/install/runtime-names';
import { stageArchiveLinux } from '../support/archive-linux';
import { addGlibc } from '../support/guest-glibc';
import { sha256, TempDirs } from '../support/packer';
import { linuxExecutableCommand, repoRoot, runTool, type ToolCommand } from '../support/run-tool';
import { assertOk, manifestOf, sdcGuest } from '../support/sdc-guest';
import { treeListing } from '../support/tree';

const temp = new TempDirs();
const DIST_LAUNCHER = join(repoRoot, 'dist', 'linux-x64-runtime', 'sdc-guest');
const EXECUTABLE = join(repoRoot, 'dist', 'linux-x64', 'sdc-guest');
let tools: LinuxTools;

/** glibc's x86-64 symbol versions up to 2.<minor>, as an old distribution's libc.so.6 defines them. */
function glibcVersions(minor: number): string[] {
  return ['2.2.5', '2.2.6', '2.3', '2.3.2', '2.3.3', '2.3.4', ...Array.from({ length: minor - 3 }, (_, i) => `2.${i + 4}`)].map((v) => `GLIBC_${v}`);
}

/** A real shared library that defines exactly `versions` (gcc and a linker version script). */
function libraryWithVersions(path: string, soname: string, versions: string[]): void {
  const dir = temp.make('fake-lib');
  const symbols = versions.map((_, i) => `int sym${i}(void) { return ${i}; }`).join('\n');
  const script = versions.map((v, i) => `${v} { global: sym${i};${i === 0 ? ' local: *;' : ''} }${i > 0 ? ` ${versions[i - 1]}` : ''};`).join('\n');
  writeFileSync(join(dir, 'lib.c'), `${symbols}\n`);
  writeFileSync(join(dir, 'lib.map'), `${script}\n`);
  mkdirSync(join(path, '..'), { recursive: true });
  execFileSync('gcc', ['-shared', '-fPIC', '-nostdlib', `-Wl,-soname,${soname}`, `-Wl,--version-script=${join(dir, 'lib.map')}`, '-o', path, join(dir, 'lib.c')], { timeout: 60_000 });
}

const LIBDIR = ['usr', 'lib', 'x86_64-linux-gnu'];

/** A Debian-12-like root (merged /usr, an absolute loader link), without the libraries in `skip`. */
function glibcRoot(skip: string[] = []): string {
  const root = temp.make('root');
  addGlibc(root, true);
  for (const lib of skip) rmSync(join(root, ...LIBDIR, lib));
  return root;
}


const choice = suite('chooseRuntime: which runtime a guest needs');
choice.before(() => {
  tools = linuxToolsAt(DIST_LAUNCHER);
});

choice('the build host (Debian 12, glibc 2.36, libstdc++ 12): direct', async () => {
  const c = await chooseRuntime('/', tools);
  assert.is(c.mode, 'direct', c.reason);
  assert.match(c.reason, /glibc 2\.\d+/);
});

choice('a root whose glibc and libstdc++ are new enough: direct, through an absolute loader link resolved inside the root', async () => {
  const c = await chooseRuntime(glibcRoot(), tools);
  assert.is(c.mode, 'direct', c.reason);
  assert.match(c.reason, /glibc 2\.36/);
});

choice('glibc 2.17 (CentOS 7): private, naming what the guest lacks', async () => {
  const root = glibcRoot(['libc.so.6']);
  libraryWithVersions(join(root, ...LIBDIR, 'libc.so.6'), 'libc.so.6', [...glibcVersions(17), 'GLIBC_PRIVATE']);
  const c = await chooseRuntime(root, tools);
  assert.is(c.mode, 'private');
  assert.is(c.reason, "the guest's /lib/x86_64-linux-gnu/libc.so.6 (glibc 2.17) lacks GLIBC_2.25, GLIBC_2.27, GLIBC_2.28: the private glibc runtime");
});

choice('glibc 2.27 (Ubuntu 18.04): private, for GLIBC_2.28 alone', async () => {
  const root = glibcRoot(['libc.so.6']);
  libraryWithVersions(join(root, ...LIBDIR, 'libc.so.6'), 'libc.so.6', glibcVersions(27));
  assert.match((await chooseRuntime(root, tools)).reason, /\(glibc 2\.27\) lacks GLIBC_2\.28:/);
});

choice('new glibc but the libstdc++ of gcc 4.8: private (CXXABI_1.3.8 is the serialport addon\'s need)', async () => {
  const root = glibcRoot(['libstdc++.so.6']);
  const versions = [...Array.from({ length: 20 }, (_, i) => `GLIBCXX_3.4${i ? `.${i}` : ''}`), ...['', '.1', '.2', '.3', '.4', '.5', '.6', '.7'].map((v) => `CXXABI_1.3${v}`)];
  libraryWithVersions(join(root, ...LIBDIR, 'libstdc++.so.6'), 'libstdc++.so.6', versions);
  const c = await chooseRuntime(root, tools);
  assert.is(c.mode, 'private');
  assert.match(c.reason, /libstdc\+\+\.so\.6 lacks CXXABI_1\.3\.8, CXXABI_1\.3\.9, GLIBCXX_3\.4\.20, GLIBCXX_3\.4\.21:/);
});

choice('no libstdc++ at all: private', async () => {
  assert.match((await chooseRuntime(glibcRoot(['libstdc++.so.6']), tools)).reason, /^the guest has no libstdc\+\+\.so\.6: the private glibc runtime$/);
});

choice('musl (Alpine): private', async () => {
  const root = temp.make('musl');
  mkdirSync(join(root, 'lib'));
  cpSync('/usr/lib/x86_64-linux-musl/libc.so', join(root, 'lib', 'ld-musl-x86_64.so.1'));
  const c = await chooseRuntime(root, tools);
  assert.is(c.mode, 'private');
  assert.match(c.reason, /a musl C library/);
});

choice('no C library at all: private', async () => {
  assert.is((await chooseRuntime(temp.make('empty'), tools)).reason, 'the guest has no glibc (no /lib64/ld-linux-x86-64.so.2): the private glibc runtime');
});

choice('absolute links never leave the root: a loader link to a path only the host has is no loader', async () => {
  const root = temp.make('escape');
  mkdirSync(join(root, 'lib64'));
  symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'lib64', 'ld-linux-x86-64.so.2'));
  symlinkSync('/', join(root, 'up'));
  assert.is(await resolveInRoot(root, '/up/../up/lib64'), join(root, 'lib64'));
  assert.is((await chooseRuntime(root, tools)).mode, 'private');
});

choice('a link loop is one clear error', async () => {
  const root = temp.make('loop');
  symlinkSync('lib64', join(root, 'lib64'));
  try {
    await chooseRuntime(root, tools);
    assert.unreachable('a link loop must fail');
  } catch (err) {
    assert.match((err as Error).message, /too many levels of symbolic links/);
  }
});

choice('a lone executable is judged by its own needs', async () => {
  const alone = join(temp.make('alone'), 'sdc-guest');
  cpSync(EXECUTABLE, alone);
  const lone = linuxToolsAt(alone);
  assert.equal(lone, { executable: alone, runtime: null, folder: join(alone, '..') });
  assert.is((await chooseRuntime(glibcRoot(), lone)).mode, 'direct');
  assert.is((await chooseRuntime(temp.make('empty'), lone)).mode, 'private');
});

choice.after(() => temp.removeAll());
choice.run();

const where = suite('linuxToolsAt: where the tools come from');

where('through the launcher (the private loader), the launcher, the executable in its runtime folder, dist/linux-x64/sdc-guest', () => {
  const runtime = join(repoRoot, 'dist', 'linux-x64-runtime', 'runtime');
  const expected = { executable: join(runtime, 'sdc-guest'), runtime: { dir: runtime, launcher: DIST_LAUNCHER }, folder: join(repoRoot, 'dist', 'linux-x64-runtime') };
  for (const path of [join(runtime, LOADER), DIST_LAUNCHER, join(runtime, 'sdc-guest'), EXECUTABLE]) assert.equal(linuxToolsAt(path), expected, path);
});

where("an archive's linux/ folder", () => {
  const linux = stageArchiveLinux(temp.make('archive'));
  const expected = { executable: join(linux, 'runtime', 'sdc-guest'), runtime: { dir: join(linux, 'runtime'), launcher: join(linux, 'sdc-guest') }, folder: linux };
  for (const path of [join(linux, 'runtime', LOADER), join(linux, 'sdc-guest'), join(linux, 'mdata-get')]) assert.equal(linuxToolsAt(path), expected, path);
});

where.after(() => temp.removeAll());
where.run();

const install = suite('sdc-guest install: either runtime');
const HOME = ['usr', 'lib', 'sdc-guest'];
const fromLauncher = (launcher: string): ToolCommand => () => ({ file: launcher, args: [] });

/** The private layout under root; returns the runtime folder's name. */
function privateLayout(root: string): string {
  assert.is(readlinkSync(join(root, 'usr', 'sbin', 'sdc-guest')), '../lib/sdc-guest/sdc-guest');
  const folder = readlinkSync(join(root, ...HOME, 'runtime'));
  assert.match(folder, /^runtime-[0-9a-f]{16}$/);
  assert.equal(readdirSync(join(root, ...HOME)).sort(), ['runtime', folder, 'sdc-guest'].sort(), 'nothing else, no temp files');
  const runtime = join(root, ...HOME, folder);
  assert.equal(readdirSync(runtime).sort(), [...new Set([...RUNTIME_FILES.map((f) => f.split('/')[0]), 'sdc-guest'])].sort());
  assert.is(statSync(join(runtime, LOADER)).mode & 0o777, 0o755);
  assert.is(statSync(join(runtime, 'libc.so.6')).mode & 0o777, 0o644);
  assert.is(sha256(join(runtime, 'sdc-guest')), sha256(EXECUTABLE));
  assert.is(readElfDynamic(join(root, ...HOME, 'sdc-guest')).interpreter, null, 'the launcher is static');
  return folder;
}

install('an empty root from the launcher: the private runtime, recorded; the tool names start; uninstall leaves nothing', async () => {
  const root = temp.make('install');
  const r = await sdcGuest(fromLauncher(DIST_LAUNCHER), ['install', '--root', root]);
  assertOk(r, 'install');
  assert.match(r.stderr, /\/usr\/sbin\/sdc-guest: a link to the launcher in \/usr\/lib\/sdc-guest, with \S+ and the private glibc \(the guest has no glibc/);
  const folder = privateLayout(root);
  const recorded = new Set(manifestOf(root).entries.map((e) => e.path));
  for (const path of ['/usr/sbin/sdc-guest', '/usr/lib/sdc-guest/sdc-guest', '/usr/lib/sdc-guest/runtime', `/usr/lib/sdc-guest/${folder}/libc.so.6`, `/usr/lib/sdc-guest/${folder}/licenses`]) {
    assert.ok(recorded.has(path), `${path} recorded`);
  }
  const help = await runTool(() => ({ file: join(root, 'usr', 'sbin', 'mdata-get'), args: [] }), 'mdata-get', ['--help']);
  assertOk(help, 'mdata-get --help');
  assert.match(help.stdout.toString(), /^Usage: mdata-get /);
  assertOk(await sdcGuest(fromLauncher(DIST_LAUNCHER), ['uninstall', '--root', root]), 'uninstall');
  assert.is(treeListing(root), '\n');
});

install('again from the installed copy: nothing changes; from other files: a new runtime folder, the old one taken back', async () => {
  const root = temp.make('reinstall');
  assertOk(await sdcGuest(fromLauncher(DIST_LAUNCHER), ['install', '--root', root]), 'install');
  const first = privateLayout(root);
  const withoutManifest = () => treeListing(root).replace(/^var\/lib\/sdc-guest\/install\.json .*\n/m, '');
  const installed = withoutManifest();
  const again = await sdcGuest(fromLauncher(join(root, 'usr', 'sbin', 'sdc-guest')), ['install', '--root', root]);
  assertOk(again, 'install from the installed copy');
  assert.match(again.stderr, /man pages from \S+\/usr\/share\/man\/man8/);
  assert.fixture(withoutManifest(), installed);

  const other = stageArchiveLinux(temp.make('other'));
  writeFileSync(join(other, 'runtime', 'licenses', 'README'), 'another build\n');
  assertOk(await sdcGuest(fromLauncher(join(other, 'sdc-guest')), ['install', '--root', root]), 'upgrade');
  const second = privateLayout(root);
  assert.is.not(second, first);
  assert.is(readFileSync(join(root, ...HOME, second, 'licenses', 'README'), 'utf8'), 'another build\n');
  assertOk(await sdcGuest(fromLauncher(DIST_LAUNCHER), ['uninstall', '--root', root]), 'uninstall');
  assert.is(treeListing(root), '\n');
});

install('glibc 2.17 gets the private runtime; after an upgrade to glibc 2.36, the executable itself; uninstall restores the root', async () => {
  const root = glibcRoot(['libc.so.6']);
  libraryWithVersions(join(root, ...LIBDIR, 'libc.so.6'), 'libc.so.6', [...glibcVersions(17), 'GLIBC_PRIVATE']);
  const original = treeListing(root);
  const old = await sdcGuest(linuxExecutableCommand, ['install', '--root', root]);
  assertOk(old, 'install on glibc 2.17');
  assert.match(old.stderr, /\(the guest's \/lib\/x86_64-linux-gnu\/libc\.so\.6 \(glibc 2\.17\) lacks GLIBC_2\.25, GLIBC_2\.27, GLIBC_2\.28: the private glibc runtime\)/);
  privateLayout(root);

  cpSync(join(repoRoot, 'dist', 'linux-x64-runtime', 'runtime', 'libc.so.6'), join(root, ...LIBDIR, 'libc.so.6'));
  const now = await sdcGuest(linuxExecutableCommand, ['install', '--root', root]);
  assertOk(now, 'install on glibc 2.36');
  assert.match(now.stderr, /\/usr\/sbin\/sdc-guest: \d+ bytes from \S+ \(the guest's libraries \(glibc 2\.36\) run the executable directly\)/);
  const bin = join(root, 'usr', 'sbin', 'sdc-guest');
  assert.ok(lstatSync(bin).isFile());
  assert.is(sha256(bin), sha256(EXECUTABLE));
  assert.not.ok(existsSync(join(root, ...HOME)), 'the private runtime is taken back');
  assertOk(await sdcGuest(linuxExecutableCommand, ['uninstall', '--root', root]), 'uninstall');
  const upgraded = treeListing(glibcRoot());
  assert.is.not(upgraded, original);
  assert.fixture(treeListing(root), upgraded);
});

install('a dry run shows the runtime it would lay out and changes nothing', async () => {
  const root = temp.make('dry');
  const r = await sdcGuest(fromLauncher(DIST_LAUNCHER), ['install', '--root', root, '--dry-run']);
  assertOk(r, 'install --dry-run');
  const plan = r.stdout.toString();
  assert.match(plan, /^would write \/usr\/lib\/sdc-guest\/runtime-[0-9a-f]{16}\/libc\.so\.6 mode 0644 \(\d+ bytes, content not shown\)$/m);
  assert.match(plan, /^would link \/usr\/lib\/sdc-guest\/runtime -> runtime-[0-9a-f]{16}$/m);
  assert.match(plan, /^would link \/usr\/sbin\/sdc-guest -> \.\.\/lib\/sdc-guest\/sdc-guest$/m);
  assert.is(treeListing(root), '\n');
});

install('a lone executable where the guest needs the private runtime: one line, exit 2, nothing changed', async () => {
  const alone = join(temp.make('alone'), 'sdc-guest');
  cpSync(EXECUTABLE, alone);
  const root = temp.make('empty');
  const r = await sdcGuest(fromLauncher(alone), ['install', '--root', root]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^sdc-guest install: error: the guest has no glibc \(no \/lib64\/ld-linux-x86-64\.so\.2\): the private glibc runtime, but \S+\/sdc-guest has no runtime folder beside it: install with a release archive's linux\/sdc-guest$/m);
  assert.is(treeListing(root), '\n');
});

install('the launcher without its runtime folder: one line, exit 127', async () => {
  const dir = temp.make('lone-launcher');
  cpSync(DIST_LAUNCHER, join(dir, 'mdata-get'));
  const r = await runTool(() => ({ file: join(dir, 'mdata-get'), args: [] }), 'mdata-get', ['--help']);
  assert.is(r.code, 127);
  assert.is(r.stderr, `sdc-guest: cannot run ${join(dir, 'runtime', LOADER)}: No such file or directory\n`);
});

install.after(() => temp.removeAll());
install.run();
