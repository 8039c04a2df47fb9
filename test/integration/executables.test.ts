// The standalone executables from `make executables` (build/sea.ts): dispatch, version, addon extraction,
// serial on Linux and under wine, reproducibility. The protocol scenarios over them live elsewhere.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetadataHost } from '../support/metadata-host';
import { assertFreshBuild, repoRoot } from '../support/run-tool';
import { VERSION } from '../../lib/version';
import { toolNames } from '../../lib/tools/registry';
import { RUNTIME_FILES } from '../../build/layout';
import { sha256 } from '../support/packer';
import { WinePrefix } from '../support/wine';
import { skipTest } from '../support/skip';

const linuxDir = join(repoRoot, 'dist', 'linux-x64');
const winDir = join(repoRoot, 'dist', 'win-x64');
const sdcGuest = join(linuxDir, 'sdc-guest');
const fixtures = join(repoRoot, 'test', 'fixtures');
const UTF8_VALUE = 'café ☕ ünïcödé\n';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with a bounded wait; a SIGKILLed run has code null. */
function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  const env = { ...process.env, MDATA_SOCKET: undefined, MDATA_SERIAL: undefined, MDATA_TIMEOUT: undefined, ...options.env };
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: options.cwd, timeout: options.timeoutMs ?? 30000, killSignal: 'SIGKILL', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}


let host: Promise<MetadataHost> | undefined;
const ptyHost = (): Promise<MetadataHost> =>
  (host ??= new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true));

mkdirSync(join(repoRoot, '.cache'), { recursive: true });
const scratch = mkdtempSync(join(repoRoot, '.cache', 'test-executables-')); // same filesystem as dist/, for hard links

test.before(() => {
  assertFreshBuild(linuxDir);
  assertFreshBuild(winDir);
});

test.after(async () => {
  await (await host)?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function assertVersion(r: Result, name: string): string {
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '', 'nothing on stderr (a code cache that V8 rejects prints a warning there)');
  const m = r.stdout.match(new RegExp(`^${name} ${VERSION.replace(/\./g, '\\.')} \\(([0-9a-f]{7,40})\\)\\n$`));
  assert.ok(m, `unexpected --version output: ${JSON.stringify(r.stdout)}`);
  return m![1];
}

test('sdc-guest --version prints the version and a commit of this repository', async () => {
  const commit = assertVersion(await run(sdcGuest, ['--version']), 'sdc-guest');
  const known = await run('git', ['rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { cwd: repoRoot });
  assert.is(known.code, 0, `commit ${commit} is not in the repository`);
});

test('Linux: symlinks, a hard link and a copy dispatch by their name; sdc-guest TOOL works too', async () => {
  assert.match((await run(join(linuxDir, 'mdata-list'), ['--help'])).stdout, /^Usage: mdata-list /);
  assert.match((await run(join(linuxDir, 'mdata-server'), ['--help'])).stdout, /^usage: mdata-server /);
  linkSync(sdcGuest, join(scratch, 'mdata-put'));
  assert.match((await run(join(scratch, 'mdata-put'), ['--help'])).stdout, /^Usage: mdata-put /);
  copyFileSync(sdcGuest, join(scratch, 'mdata-delete'));
  assert.match((await run(join(scratch, 'mdata-delete'), ['--help'])).stdout, /^Usage: mdata-delete /);
  assert.match((await run(sdcGuest, ['mdata-get', '--help'])).stdout, /^Usage: mdata-get /);
});

test('an unknown tool name is one usage line listing the tools, exit 3', async () => {
  const r = await run(sdcGuest, ['nope']);
  assert.is(r.code, 3);
  const tools = await toolNames();
  assert.ok(['mdata-get', 'mdata-server', 'boot', 'boot-scripts', 'install', 'set-hostname', 'prepare-image'].every((t) => tools.includes(t)), tools.join(' '));
  assert.is(r.stderr, `sdc-guest: unknown tool "nope"; usage: sdc-guest TOOL [ARGS] or sdc-guest --version; tools: ${tools.join(', ')}\n`);
  assert.is((await run(sdcGuest, [])).code, 3);
});

test('NODE_OPTIONS cannot change the executable', async () => {
  const env = { NODE_OPTIONS: '--require /nonexistent' };
  assertVersion(await run(sdcGuest, ['--version'], { env }), 'sdc-guest');
  const r = await run(join(linuxDir, 'mdata-get'), ['utf8'], { env: { ...env, ...(await ptyHost()).env(true) } });
  assert.is(r.stdout, UTF8_VALUE, r.stderr);
});

test('Linux: mdata-get reads a key over a pty (serialport and fcntl-lock addons from the executable)', async () => {
  const r = await run(join(linuxDir, 'mdata-get'), ['utf8'], { env: (await ptyHost()).env(true) });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, UTF8_VALUE);
});

test('the addons are extracted only for the serial transport, not for a socket, into folders named by their content', async () => {
  const dir = mkdtempSync(join(scratch, 'native-'));
  const env = { TMPDIR: dir, MDATA_NATIVE_DIR: dir };
  const socket = await run(join(linuxDir, 'mdata-get'), ['utf8'], { env: { ...env, ...(await ptyHost()).env(false) } });
  assert.is(socket.stdout, UTF8_VALUE, socket.stderr);
  assert.equal(readdirSync(dir), []);
  const pty = await run(join(linuxDir, 'mdata-get'), ['utf8'], { env: { ...env, ...(await ptyHost()).env(true) } });
  assert.is(pty.stdout, UTF8_VALUE, pty.stderr);
  // The build records each addon's sha256 in the executable; the folder names must match the bytes.
  const sources = {
    'serialport.node': join(repoRoot, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds', 'linux-x64', '@serialport+bindings-cpp.glibc.node'),
    'fcntl-lock.node': join(repoRoot, 'dist', 'native', 'fcntl-lock-linux-x64.node'),
  };
  const expected = Object.entries(sources).map(([file, src]) => `mdata-native-${process.getuid!()}-${sha256(src).slice(0, 16)}/${file}`);
  const found = readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)).map((file) => `${sub}/${file}`));
  assert.equal(found.sort(), expected.sort());
  for (const [file, src] of Object.entries(sources)) {
    const extracted = found.find((f) => f.endsWith(`/${file}`))!;
    assert.is(sha256(join(dir, extracted)), sha256(src), `${extracted} holds other bytes`);
  }
});

/** The builtin modules Node compiles during one run (NODE_DEBUG_NATIVE=CODE_CACHE names each on stderr). */
async function builtinsLoaded(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const r = await run(join(linuxDir, 'mdata-get'), args, { env: { ...env, NODE_DEBUG_NATIVE: 'CODE_CACHE' } });
  assert.is(r.code, 0, r.stderr);
  return [...r.stderr.matchAll(/^Compiling (\S+) with code cache/gm)].map((m) => m[1]);
}

test('start-up loads only the Node modules each path needs', async () => {
  const h = await ptyHost();
  // --version writes synchronously: not even a stream for stdout.
  assert.equal(await builtinsLoaded(['--version']), ['internal/main/embedding']);
  const socket = await builtinsLoaded(['utf8'], h.env(false));
  assert.ok(socket.includes('net'), `the socket transport uses net: ${socket.join(' ')}`);
  const pty = await builtinsLoaded(['utf8'], h.env(true));
  assert.ok(pty.includes('sea'), `the serial transport extracts addons: ${pty.join(' ')}`);
  // No hashing at start (the build records the addons' sha256), no port listing (child_process), no
  // promise timers, no fs/promises (with readline) for the atomic writer's async half.
  for (const [path, loaded, unwanted] of [
    ['socket', socket, ['crypto', 'child_process', 'os', 'timers/promises', 'sea', 'fs/promises']],
    ['pty', pty, ['crypto', 'child_process', 'net', 'dgram', 'timers/promises', 'fs/promises']],
  ] as const) {
    for (const name of unwanted) assert.not.ok(loaded.includes(name), `${path} loads ${name}: ${loaded.join(' ')}`);
  }
});

// Runs mdata-get in a private mount namespace with TMPDIR, MDATA_NATIVE_DIR and HOME on a noexec tmpfs
// and a fresh /dev/shm; with `allBlocked`, every other candidate folder is noexec or read-only too.
async function inMountNamespace(allBlocked: boolean): Promise<Result & { shm: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sdc-noexec-'));
  const script = `
    set -e
    mount -t tmpfs -o noexec,size=16m tmpfs "$NOEXEC"
    mount -t tmpfs -o size=16m tmpfs /dev/shm
    if [ "$ALL" = 1 ]; then
      for d in /dev/shm /run /var/tmp; do mount -t tmpfs -o noexec,size=16m tmpfs "$d"; done
      mount --bind "$EXEDIR" "$RO" && mount -o remount,bind,ro "$RO"
    fi
    set +e
    TMPDIR="$NOEXEC" MDATA_NATIVE_DIR="$NOEXEC" HOME="$NOEXEC" "$RO/mdata-get" --timeout 3 utf8 >"$OUT/stdout" 2>"$OUT/stderr"
    echo $? >"$OUT/code"
    ls /dev/shm >"$OUT/shm"`;
  for (const d of ['noexec', 'ro', 'out']) mkdirSync(join(dir, d));
  const env = {
    ...(await ptyHost()).env(true),
    NOEXEC: join(dir, 'noexec'),
    RO: allBlocked ? join(dir, 'ro') : linuxDir,
    EXEDIR: linuxDir,
    OUT: join(dir, 'out'),
    ALL: allBlocked ? '1' : '0',
  };
  const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { env });
  assert.is(r.code, 0, `mount namespace script failed: ${r.stderr}`);
  const read = (f: string): string => readFileSync(join(dir, 'out', f), 'utf8');
  const result = { code: Number(read('code')), stdout: read('stdout'), stderr: read('stderr'), shm: read('shm') };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const canMount = (async () => (await run('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'])).code === 0)();

test('noexec TMPDIR and MDATA_NATIVE_DIR: the addons load from the /dev/shm fallback', async () => {
  if (!(await canMount)) return skipTest('no permission for `unshare --mount` + tmpfs mounts (needs root/CAP_SYS_ADMIN)');
  const r = await inMountNamespace(false);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, UTF8_VALUE);
  assert.is(r.shm.split('\n').filter((l) => l.startsWith('mdata-native-')).length, 2, `in /dev/shm: ${r.shm}`);
});

test('no folder can hold the addon: one error lists every folder and why', async () => {
  if (!(await canMount)) return skipTest('no permission for `unshare --mount` + tmpfs mounts (needs root/CAP_SYS_ADMIN)');
  const r = await inMountNamespace(true);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /cannot load serialport addon:\n/);
  for (const d of ['noexec', '/dev/shm', '/run', '/var/tmp', 'noexec/.cache']) {
    assert.match(r.stderr, new RegExp(`\\n  \\S*${d.replace(/[/.]/g, '\\$&')}: .*failed to map segment`), `no line for ${d}`);
  }
  assert.match(r.stderr, /\n {2}\S+\/ro: EROFS/);
});

test('Windows executables under wine: version, dispatch by name (hard link, lone copy), COM2 over a pty', async () => {
  if (process.env.SKIP_WINE === '1') return skipTest('SKIP_WINE=1');
  const wine = new WinePrefix();
  try {
    await wine.start();
    const linuxCommit = assertVersion(await run(sdcGuest, ['--version']), 'sdc-guest');
    assert.is(assertVersion(await wine.run(join(winDir, 'mdata-get.exe'), ['--version']), 'mdata-get'), linuxCommit);
    assert.match((await wine.run(join(winDir, 'mdata-put.exe'), ['--help'])).stdout, /^Usage: mdata-put /);
    const alone = join(scratch, 'win');
    mkdirSync(alone);
    copyFileSync(join(winDir, 'mdata-get.exe'), join(alone, 'mdata-list.exe'));
    assert.match((await wine.run(join(alone, 'mdata-list.exe'), ['--help'])).stdout, /^Usage: mdata-list /);
    assertVersion(await wine.run(join(winDir, 'mdata-get.exe'), ['--version'], 60000, { NODE_OPTIONS: '--require Z:\\nonexistent' }), 'mdata-get');

    const h = await ptyHost();
    wine.mapCom2(realpathSync(h.device));
    const get = await wine.run(join(winDir, 'mdata-get.exe'), ['utf8']);
    assert.is(get.code, 0, get.stderr);
    assert.is(get.stdout, UTF8_VALUE);
    const list = await wine.run(join(alone, 'mdata-list.exe'), []);
    assert.is(list.code, 0, list.stderr);
    assert.match(list.stdout, /^user-script\n.*\nutf8\n/s);
  } finally {
    await wine.stop();
  }
});

test('two clean builds in different folders give byte-identical executables, launcher and runtime', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sdc-repro-'));
  const dirs = [join(base, 'a'), join(base, 'a longer', 'second-checkout')];
  try {
    const builds = dirs.map(async (dir) => {
      for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'cmd', 'lib', 'build', 'node_modules']) {
        cpSync(join(repoRoot, f), join(dir, f), { recursive: true, verbatimSymlinks: true });
      }
      mkdirSync(join(dir, '.cache'));
      symlinkSync(join(repoRoot, '.cache', 'node-bases'), join(dir, '.cache', 'node-bases')); // pinned, verified bases
      symlinkSync(join(repoRoot, '.cache', 'debian'), join(dir, '.cache', 'debian')); // verified Debian packages
      for (const script of ['build/native.ts', 'build/sea.ts', 'build/runtime.ts']) {
        const r = await run(process.execPath, ['-r', 'tsm', script], { cwd: dir, timeoutMs: 300000 });
        assert.is(r.code, 0, `${script} in ${dir}: ${r.stderr}`);
      }
    });
    await Promise.all(builds);
    const [a, b] = dirs.map((d) => join(d, 'dist'));
    for (const sub of ['linux-x64', 'win-x64']) assert.equal(readdirSync(join(a, sub)).sort(), readdirSync(join(b, sub)).sort());
    const runtime = [...RUNTIME_FILES.map((f) => `linux-x64-runtime/runtime/${f}`), 'linux-x64-runtime/sdc-guest'];
    for (const f of ['linux-x64/sdc-guest', 'win-x64/mdata-get.exe', 'native/fcntl-lock-linux-x64.node', ...runtime]) {
      assert.is(sha256(join(a, f)), sha256(join(b, f)), `${f} differs`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
