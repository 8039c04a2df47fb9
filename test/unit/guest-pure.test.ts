// The guest framework's and the Linux actions' pure parts: the dry-run diff (against diff -u),
// chroot-style path resolution, host names and /etc/hosts, hostid bytes, shadow fields.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GuestCommands } from '../../lib/guest/commands';
import { unifiedDiff } from '../../lib/guest/diff';
import { resolveInRoot } from '../../lib/guest/files';
import { ToolLog } from '../../lib/guest/log';
import { hostidBytes } from '../../lib/guest/linux/hostid';
import { hostsWithName, isValidHostname } from '../../lib/guest/linux/hostname';
import { hasNoUsablePassword } from '../../lib/guest/linux/root-password';
import { secondsOption } from '../../lib/guest/scripts';

const scratch = mkdtempSync(join(tmpdir(), 'guest-pure-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

function diffU(before: string | null, after: string): string {
  const a = join(scratch, 'a');
  const b = join(scratch, 'b');
  writeFileSync(a, before ?? '');
  writeFileSync(b, after);
  const r = spawnSync('diff', ['-u', a, b], { encoding: 'utf8', timeout: 10_000 });
  // 0: the same, 1: they differ; anything else (a timeout too) is no answer.
  if (r.status !== 0 && r.status !== 1) throw new Error(`diff -u failed (${r.error?.message ?? r.signal ?? r.status}): ${r.stderr}`);
  const out = r.stdout;
  // Our header names the guest path; diff -u names the files and times.
  return out.split('\n').slice(2).join('\n');
}

const CASES: Array<[string, string | null, string]> = [
  ['a change and an addition far apart', '127.0.0.1 localhost\n::1 localhost\n# c\nx\ny\nz\nw\nq\nr\n', '127.0.0.1 localhost myhost\n::1 localhost\n# c\nx\ny\nz\nw\nq\nr\nnew\n'],
  ['a new file', null, 'one\ntwo\n'],
  ['removing everything', 'one\ntwo\n', ''],
  ['changes close together make one hunk', 'a\nb\nc\nd\ne\nf\ng\nh\n', 'a\nB\nc\nd\ne\nF\ng\nh\n'],
  ['insertions at the start', 'x\ny\n', 'new\nx\ny\n'],
];

for (const [name, before, after] of CASES) {
  test(`dry-run diff agrees with diff -u: ${name}`, () => {
    const ours = unifiedDiff('/etc/f', before, after).split('\n').slice(2).join('\n');
    assert.is(ours, diffU(before, after));
  });
}

test('a path resolves through symlinks inside the root and never leaves it', async () => {
  const root = join(scratch, 'root');
  mkdirSync(join(root, 'etc', 'real'), { recursive: true });
  mkdirSync(join(root, 'usr', 'lib'), { recursive: true });
  symlinkSync('/etc/real/hosts', join(root, 'etc', 'hosts')); // absolute: starts again at the root
  symlinkSync('usr/lib', join(root, 'lib')); // relative
  symlinkSync('../../../../../etc/passwd', join(root, 'etc', 'escape'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  assert.is(await resolveInRoot(root, '/etc/hosts'), join(root, 'etc/real/hosts'));
  assert.is(await resolveInRoot(root, '/etc/hosts', false), join(root, 'etc/hosts'));
  assert.is(await resolveInRoot(root, '/lib/smartdc/x'), join(root, 'usr/lib/smartdc/x'));
  assert.is(await resolveInRoot(root, '/etc/escape'), join(root, 'etc/passwd'));
  assert.is(await resolveInRoot(root, '/../../etc/../etc/hosts'), join(root, 'etc/real/hosts'));
  // Below a missing folder nothing is looked up; back out of one with `..` and links count again.
  assert.is(await resolveInRoot(root, '/nosuch/dir/file'), join(root, 'nosuch/dir/file'));
  assert.is(await resolveInRoot(root, '/nosuch/../etc/hosts'), join(root, 'etc/real/hosts'));
  const loop = await resolveInRoot(root, '/loop1').then(() => null, (err: Error) => err.message);
  assert.match(loop ?? '', /too many levels of symbolic links/);
});

test('host names: RFC 1123 labels only', () => {
  for (const good of ['web01', 'a', 'web-01.example.com', 'x'.repeat(63), '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f']) assert.ok(isValidHostname(good), good);
  for (const bad of ['', '-web', 'web-', 'we b', 'web_01', 'x'.repeat(64), 'a..b', 'héllo', 'a.', `${'a.'.repeat(127)}a`]) assert.not.ok(isValidHostname(bad), bad);
});

test('/etc/hosts: whole-word matches only, our 127.0.1.1 line, everything else kept', () => {
  const debian = '127.0.0.1\tlocalhost\n127.0.1.1\told-name\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n';
  assert.is(hostsWithName(debian, 'web01'), debian.replace('127.0.1.1\told-name', '127.0.1.1\tweb01'));
  // "local" is a substring of "localhost" but not a word of that line
  assert.is(hostsWithName('127.0.0.1 localhost\n', 'local'), '127.0.0.1 localhost\n127.0.1.1\tlocal\n');
  const named = '127.0.0.1 localhost web01 # web01 here\n';
  assert.is(hostsWithName(named, 'web01'), named);
  // a comment naming it does not count; a non-loopback line does not either
  assert.is(hostsWithName('127.0.0.1 localhost # web01\n10.0.0.5 web01\n', 'web01'), '127.0.0.1 localhost # web01\n10.0.0.5 web01\n127.0.1.1\tweb01\n');
  assert.is(hostsWithName('', 'db.example.com'), '127.0.1.1\tdb.example.com db\n');
  assert.is(hostsWithName('127.0.0.1 localhost', 'a'), '127.0.0.1 localhost\n127.0.1.1\ta\n');
});

test('hostid: the first 32 bits of the UUID in host byte order', () => {
  assert.equal([...hostidBytes('12345678-aaaa-bbbb-cccc-1234567890ab', 'LE')], [0x78, 0x56, 0x34, 0x12]);
  assert.equal([...hostidBytes('12345678-aaaa-bbbb-cccc-1234567890ab', 'BE')], [0x12, 0x34, 0x56, 0x78]);
  assert.is(hostidBytes('deadbeef-0000-0000-0000-000000000000', 'LE').readUInt32LE(), 0xdeadbeef);
});

test('shadow: what counts as no usable password', () => {
  for (const none of ['', '*', '!', '!!', '!$6$salt$hash', '*LK*', '!*']) assert.ok(hasNoUsablePassword(none), JSON.stringify(none));
  for (const set of ['$6$salt$hash', '$y$j9T$abc', 'plainDEShash']) assert.not.ok(hasNoUsablePassword(set), set);
});

test('script time limits: the default when absent, a timer-sized number of seconds otherwise', () => {
  assert.is(secondsOption(undefined, 300, '--user-script-timeout'), 300);
  assert.is(secondsOption('1.5', 300, '--user-script-timeout'), 1.5);
  // A bigger value would overflow Node's timer, which then fires at once and kills the script.
  assert.throws(() => secondsOption('2147484', 300, '--user-script-timeout'), /--user-script-timeout must be a number of seconds above 0 and at most 2147483, got '2147484'/);
  for (const bad of [true, '', '0', '-1', 'soon'] as const) assert.throws(() => secondsOption(bad, 300, '--operator-script-timeout'), /--operator-script-timeout must be/);
});

test('the log file never grows past 8 MiB: it becomes .1 and a new one starts, also during a run', () => {
  const file = join(scratch, 'log', 'sdc-guest.log');
  const log = new ToolLog(file, 'run-user-script', () => undefined).scoped('run-user-script');
  const line = 'y'.repeat(1000);
  for (let i = 0; i < 20_000; i++) log.info(`| ${line}`);
  const limit = 8 * 1024 * 1024;
  assert.ok(statSync(file).size <= limit, `${statSync(file).size}`);
  assert.ok(statSync(`${file}.1`).size <= limit && statSync(`${file}.1`).size > limit - 2000);
});

test('command output is logged line by line, a character split across two writes kept whole', async () => {
  const lines: string[] = [];
  const quiet = { info() {}, warn() {}, error() {} };
  const commands = new GuestCommands({ dryRun: false, live: true, log: quiet, print: () => undefined });
  const r = await commands.run('sh', ['-c', "printf 'caf\\303'; sleep 0.2; printf '\\251\\nnext\\nlast'"], { onOutput: (line) => lines.push(line), timeoutMs: 10_000 });
  assert.is(r.stdout, 'café\nnext\nlast');
  assert.equal(lines, ['café', 'next', 'last']);
});

test('a symlink planted at the log file is never written through', () => {
  const victim = join(scratch, 'victim');
  writeFileSync(victim, 'root:x:0:0::/root:/bin/sh\n');
  const file = join(scratch, 'planted', 'sdc-guest.log');
  mkdirSync(dirname(file), { recursive: true });
  symlinkSync(victim, file);
  const stderr: string[] = [];
  new ToolLog(file, 'boot', (line) => stderr.push(line)).info('a line');
  assert.is(readFileSync(victim, 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(stderr.length, 1, 'the line still reaches stderr');
});

test.run();
