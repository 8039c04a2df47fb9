// lib/install/runtime.ts on its own: which runtime a guest root needs (roots made of real libraries,
// and of libraries that gcc builds with an old glibc's symbol versions), and laying either out.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTIME_FILES, RUNTIME_LIBRARIES } from '../../build/layout';
import { readElfDynamic } from '../../lib/install/elf';
import { resolveInRoot } from '../../lib/guest/files';
import { chooseRuntime, installLinuxExecutable, readRequirements, type ShippedLinuxTools } from '../../lib/install/runtime';
import { builtShippedTools } from '../support/chroot-guest';
import { sha256, TempDirs } from '../support/packer';

const temp = new TempDirs();
let shipped: ShippedLinuxTools;
const requirements = () => readRequirements(shipped.runtimeDir);

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
  execFileSync('gcc', ['-shared', '-fPIC', '-nostdlib', `-Wl,-soname,${soname}`, `-Wl,--version-script=${join(dir, 'lib.map')}`, '-o', path, join(dir, 'lib.c')]);
}

/**
 * A Debian-12-like root made of the private runtime's libraries: /lib64 and /lib link into /usr,
 * and the loader link in /usr/lib64 is absolute, as on a real system.
 */
function glibcRoot(skip: string[] = []): string {
  const root = temp.make('root');
  const libdir = join(root, 'usr', 'lib', 'x86_64-linux-gnu');
  mkdirSync(libdir, { recursive: true });
  mkdirSync(join(root, 'usr', 'lib64'));
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('usr/lib64', join(root, 'lib64'));
  symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'usr', 'lib64', 'ld-linux-x86-64.so.2'));
  for (const lib of RUNTIME_LIBRARIES.filter((l) => !skip.includes(l))) cpSync(join(shipped.runtimeDir, lib), join(libdir, lib));
  return root;
}

const choice = suite('chooseRuntime: which runtime a guest needs');
choice.before(() => {
  shipped = builtShippedTools();
});

choice('the build host (Debian 12, glibc 2.36, libstdc++ 12): direct', async () => {
  const c = await chooseRuntime('/', requirements());
  assert.is(c.mode, 'direct', c.reason);
  assert.match(c.reason, /glibc 2\.\d+/);
});

choice('a root whose glibc and libstdc++ are new enough: direct, through an absolute loader link resolved inside the root', async () => {
  const c = await chooseRuntime(glibcRoot(), requirements());
  assert.is(c.mode, 'direct', c.reason);
  assert.match(c.reason, /glibc 2\.36/);
});

choice('glibc 2.17 (CentOS 7): private, naming what the guest lacks', async () => {
  const root = glibcRoot(['libc.so.6']);
  libraryWithVersions(join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6'), 'libc.so.6', [...glibcVersions(17), 'GLIBC_PRIVATE']);
  const c = await chooseRuntime(root, requirements());
  assert.is(c.mode, 'private');
  assert.is(c.reason, "the guest's /lib/x86_64-linux-gnu/libc.so.6 (glibc 2.17) lacks GLIBC_2.25, GLIBC_2.27, GLIBC_2.28: the private glibc runtime");
});

choice('glibc 2.27 (Ubuntu 18.04): private, for GLIBC_2.28 alone', async () => {
  const root = glibcRoot(['libc.so.6']);
  libraryWithVersions(join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6'), 'libc.so.6', glibcVersions(27));
  assert.match((await chooseRuntime(root, requirements())).reason, /\(glibc 2\.27\) lacks GLIBC_2\.28:/);
});

choice('new glibc but the libstdc++ of gcc 4.8: private (CXXABI_1.3.8 is the serialport addon\'s need)', async () => {
  const root = glibcRoot(['libstdc++.so.6']);
  const versions = [...Array.from({ length: 20 }, (_, i) => `GLIBCXX_3.4${i ? `.${i}` : ''}`), ...['', '.1', '.2', '.3', '.4', '.5', '.6', '.7'].map((v) => `CXXABI_1.3${v}`)];
  libraryWithVersions(join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'libstdc++.so.6'), 'libstdc++.so.6', versions);
  const c = await chooseRuntime(root, requirements());
  assert.is(c.mode, 'private');
  assert.match(c.reason, /libstdc\+\+\.so\.6 lacks CXXABI_1\.3\.8, CXXABI_1\.3\.9, GLIBCXX_3\.4\.20, GLIBCXX_3\.4\.21:/);
});

choice('no libstdc++ at all: private', async () => {
  assert.match((await chooseRuntime(glibcRoot(['libstdc++.so.6']), requirements())).reason, /^the guest has no libstdc\+\+\.so\.6: the private glibc runtime$/);
});

choice('musl (Alpine): private', async () => {
  const root = temp.make('musl');
  mkdirSync(join(root, 'lib'));
  cpSync('/usr/lib/x86_64-linux-musl/libc.so', join(root, 'lib', 'ld-musl-x86_64.so.1'));
  const c = await chooseRuntime(root, requirements());
  assert.is(c.mode, 'private');
  assert.match(c.reason, /a musl C library/);
});

choice('no C library at all: private', async () => {
  assert.is((await chooseRuntime(temp.make('empty'), requirements())).reason, 'the guest has no glibc (no /lib64/ld-linux-x86-64.so.2): the private glibc runtime');
});

choice('absolute links never leave the root: a loader link to a path only the host has is no loader', async () => {
  const root = temp.make('escape');
  mkdirSync(join(root, 'lib64'));
  symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'lib64', 'ld-linux-x86-64.so.2'));
  symlinkSync('/', join(root, 'up'));
  assert.is(await resolveInRoot(root, '/up/../up/lib64'), join(root, 'lib64'));
  assert.is((await chooseRuntime(root, requirements())).mode, 'private');
});

choice('a link loop is one clear error', async () => {
  const root = temp.make('loop');
  symlinkSync('lib64', join(root, 'lib64'));
  try {
    await chooseRuntime(root, requirements());
    assert.unreachable('a link loop must fail');
  } catch (err) {
    assert.match((err as Error).message, /too many levels of symbolic links/);
  }
});

choice.after(() => temp.removeAll());
choice.run();

const install = suite('installLinuxExecutable: laying out either runtime');
install.before(() => {
  shipped = builtShippedTools();
});

/** Runs a file under the root on this host with a bounded wait. */
function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function privateLayout(root: string): { id: string; runtime: string } {
  const home = join(root, 'usr', 'lib', 'sdc-guest');
  assert.is(readlinkSync(join(root, 'usr', 'sbin', 'sdc-guest')), '../lib/sdc-guest/sdc-guest');
  const id = readlinkSync(join(home, 'runtime'));
  assert.match(id, /^runtime-[0-9a-f]{16}$/);
  assert.equal(readdirSync(home).sort(), ['runtime', id, 'sdc-guest'].sort(), 'nothing else, no temp files');
  return { id, runtime: join(home, id) };
}

install('private: the launcher, the runtime folder behind a link, and /usr/sbin/sdc-guest; the tool names start', async () => {
  const root = temp.make('install');
  const lines: string[] = [];
  const c = await chooseRuntime(root, requirements());
  await installLinuxExecutable(root, shipped, c, { log: (l) => lines.push(l) });
  assert.match(lines[0], /^\/usr\/sbin\/sdc-guest: a link to the launcher in \/usr\/lib\/sdc-guest \(the guest has no glibc/);
  const { runtime } = privateLayout(root);
  for (const file of [...RUNTIME_FILES, 'sdc-guest']) assert.ok(existsSync(join(runtime, file)), `${file} in the runtime`);
  assert.is(statSync(join(runtime, 'ld-linux-x86-64.so.2')).mode & 0o777, 0o755);
  assert.is(statSync(join(runtime, 'libc.so.6')).mode & 0o777, 0o644);
  assert.is(sha256(join(runtime, 'sdc-guest')), sha256(join(shipped.runtimeDir, 'sdc-guest')));
  assert.is(readElfDynamic(join(root, 'usr', 'lib', 'sdc-guest', 'sdc-guest')).interpreter, null, 'the launcher is static');

  symlinkSync('sdc-guest', join(root, 'usr', 'sbin', 'mdata-get'));
  const r = await run(join(root, 'usr', 'sbin', 'mdata-get'), ['--help']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: mdata-get /);
});

install('again with the same files: the same runtime folder; with other files: a new one, the old one removed', async () => {
  const root = temp.make('reinstall');
  const c = await chooseRuntime(root, requirements());
  await installLinuxExecutable(root, shipped, c);
  const first = privateLayout(root);
  const inode = statSync(join(first.runtime, 'libc.so.6')).ino;
  await installLinuxExecutable(root, shipped, c);
  assert.equal(privateLayout(root), first);
  assert.is(statSync(join(first.runtime, 'libc.so.6')).ino, inode, 'not copied again');

  const other = temp.make('shipped');
  cpSync(shipped.runtimeDir, join(other, 'runtime'), { recursive: true, dereference: true });
  cpSync(shipped.launcher, join(other, 'sdc-guest'));
  writeFileSync(join(other, 'runtime', 'licenses', 'README'), 'another build\n');
  await installLinuxExecutable(root, { launcher: join(other, 'sdc-guest'), runtimeDir: join(other, 'runtime') }, c);
  const second = privateLayout(root);
  assert.is.not(second.id, first.id);
  assert.is(readFileSync(join(second.runtime, 'licenses', 'README'), 'utf8'), 'another build\n');
});

install('direct replaces the link with the executable and removes the private runtime; private again restores them', async () => {
  const root = temp.make('switch');
  await installLinuxExecutable(root, shipped, { mode: 'private', reason: 'test' });
  await installLinuxExecutable(root, shipped, { mode: 'direct', reason: 'test' });
  const bin = join(root, 'usr', 'sbin', 'sdc-guest');
  assert.ok(lstatSync(bin).isFile());
  assert.is(statSync(bin).mode & 0o777, 0o755);
  assert.is(sha256(bin), sha256(join(shipped.runtimeDir, 'sdc-guest')));
  assert.not.ok(existsSync(join(root, 'usr', 'lib', 'sdc-guest')));
  assert.equal(readdirSync(join(root, 'usr', 'sbin')), ['sdc-guest'], 'no temp files');
  const direct = await run(bin, ['--version']);
  assert.is(direct.code, 0, direct.stderr);

  await installLinuxExecutable(root, shipped, { mode: 'private', reason: 'test' });
  privateLayout(root);
});

install('the launcher without its runtime folder: one line, exit 127', async () => {
  const dir = temp.make('lone-launcher');
  cpSync(shipped.launcher, join(dir, 'mdata-get'));
  const r = await run(join(dir, 'mdata-get'), ['--help']);
  assert.is(r.code, 127);
  assert.is(r.stderr, `sdc-guest: cannot run ${join(dir, 'runtime', 'ld-linux-x86-64.so.2')}: No such file or directory\n`);
});

install('a dry run says what it would do and changes nothing', async () => {
  const root = temp.make('dry');
  const lines: string[] = [];
  await installLinuxExecutable(root, shipped, { mode: 'direct', reason: 'because' }, { dryRun: true, log: (l) => lines.push(l) });
  assert.equal(lines, ['/usr/sbin/sdc-guest: the executable (because)']);
  assert.equal(readdirSync(root), []);
});

install.after(() => temp.removeAll());
install.run();
