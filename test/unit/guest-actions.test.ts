// Each Linux guest action alone, against a prefix root from fixtures, with the framework's own
// context and recording stubs of the system commands first on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendArpUpdates } from '../../lib/guest/linux/arp-updates';
import { setHostid } from '../../lib/guest/linux/hostid';
import { setHostname } from '../../lib/guest/linux/hostname';
import { runOperatorScript } from '../../lib/guest/linux/operator-script';
import { setRootAuthorizedKeys } from '../../lib/guest/linux/root-authorized-keys';
import { setRootPassword } from '../../lib/guest/linux/root-password';
import { getUserData } from '../../lib/guest/linux/user-data';
import { runUserScript } from '../../lib/guest/linux/user-script';
import { testContext } from '../support/guest-context';
import { DEBIAN_GUEST, makeGuestRoot, treeHash } from '../support/guest-root';
import { skipTest } from '../support/skip';
import { makeStubs } from '../support/stubs';

const scratch = mkdtempSync(join(tmpdir(), 'guest-actions-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const root = (extra: Record<string, string> = {}) => makeGuestRoot({ ...DEBIAN_GUEST, ...extra }, scratch);

/** The pids (one a line, or '') of processes whose command line has `pattern`; pgrep at most 10 s. */
function pgrep(pattern: string): string {
  const r = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8', timeout: 10_000 });
  // 0: some found, 1: none; anything else (a timeout too) is no answer.
  if (r.status !== 0 && r.status !== 1) throw new Error(`pgrep failed (${r.error?.message ?? r.signal ?? r.status}): ${r.stderr}`);
  return r.stdout.trim();
}
const read = (r: string, path: string) => readFileSync(join(r, path), 'utf8');
const mode = (r: string, path: string) => statSync(join(r, path)).mode & 0o7777;
const PASSWORD = `p%a^s&s!"'w o\\rd é`;
const KEYS = 'ssh-ed25519 AAAAC3Nza key-one\nno-pty,command="echo \\"hi\\" \\\\n" ecdsa-sha2-nistp256 AAAAE2V key-two\nssh-rsa AAAAB3Nz key-three';

test('root keys: written when missing, byte for byte, .ssh 0700, file 0600 owned by root, restorecon run', async () => {
  const r = root();
  const stubs = makeStubs({ restorecon: 0 });
  const out = await setRootAuthorizedKeys.run(testContext(r, { root_authorized_keys: KEYS }, { path: stubs.path }), {});
  assert.is(out.result, 'ok', out.detail);
  assert.is(read(r, 'root/.ssh/authorized_keys'), `${KEYS}\n`);
  assert.is(mode(r, 'root/.ssh'), 0o700);
  assert.is(mode(r, 'root/.ssh/authorized_keys'), 0o600);
  assert.is(statSync(join(r, 'root/.ssh/authorized_keys')).uid, 0);
  assert.equal(stubs.calls(), [`restorecon -R ${r}/root/.ssh`]);
});

test('root keys: an existing file is kept unless overwrite_root_akeys is OVERWRITE, in any case', async () => {
  const r = root({ '/root/.ssh/authorized_keys': 'ssh-rsa OLD mine\n' });
  const kept = await setRootAuthorizedKeys.run(testContext(r, { root_authorized_keys: KEYS, overwrite_root_akeys: 'no' }), {});
  assert.is(kept.result, 'skipped');
  assert.is(read(r, 'root/.ssh/authorized_keys'), 'ssh-rsa OLD mine\n');
  const replaced = await setRootAuthorizedKeys.run(testContext(r, { root_authorized_keys: KEYS, overwrite_root_akeys: 'OverWrite' }), {});
  assert.is(replaced.result, 'ok');
  assert.is(read(r, 'root/.ssh/authorized_keys'), `${KEYS}\n`);
  const absent = await setRootAuthorizedKeys.run(testContext(r, {}), {});
  assert.is(absent.result, 'skipped');
});

test("root keys go to root's home from /etc/passwd", async () => {
  const r = root({ '/etc/passwd': 'root:x:0:0:root:/var/root:/bin/sh\n' });
  await setRootAuthorizedKeys.run(testContext(r, { root_authorized_keys: 'ssh-ed25519 AAAA k' }), {});
  assert.is(read(r, 'var/root/.ssh/authorized_keys'), 'ssh-ed25519 AAAA k\n');
});

for (const field of ['*', '!', '!!', '', '!$6$salt$locked']) {
  test(`root password: applied through chpasswd's stdin when root's field is ${JSON.stringify(field)}`, async () => {
    const r = root({ '/etc/shadow': `fakeroot:$6$x$y:1::::::\nroot:${field}:19000:0:99999:7:::\n` });
    const stubs = makeStubs({ chpasswd: 0 });
    const ctx = testContext(r, { root_pw: PASSWORD }, { path: stubs.path });
    const out = await setRootPassword.run(ctx, {});
    assert.is(out.result, 'ok', out.detail);
    assert.equal(stubs.calls(), [`chpasswd -R ${r}`]);
    assert.equal(stubs.inputs('chpasswd'), [`root:${PASSWORD}\n`]);
    assert.not.ok(JSON.stringify(ctx.lines).includes('s&s'), 'the password is not in the log');
  });
}

test('root password: a real password is kept; only the root: line counts; line breaks are refused', async () => {
  const stubs = makeStubs({ chpasswd: 0 });
  const set = await setRootPassword.run(testContext(root({ '/etc/shadow': 'root:$6$salt$hash:1::::::\n' }), { root_pw: 'x' }, { path: stubs.path }), {});
  assert.is(set.result, 'skipped');
  // "fakeroot" contains "root" and has no password; root has one
  const fake = await setRootPassword.run(testContext(root({ '/etc/shadow': 'fakeroot:*:1::::::\nroot:$6$a$b:1::::::\n' }), { root_pw: 'x' }, { path: stubs.path }), {});
  assert.is(fake.result, 'skipped');
  const multi = await setRootPassword.run(testContext(root(), { root_pw: 'one\nroot:two' }, { path: stubs.path }), {});
  assert.is(multi.result, 'failed');
  assert.equal(stubs.calls(), []);
  const failing = makeStubs({ chpasswd: { exit: 1, script: 'echo "chpasswd: pam failure" >&2' } });
  const bad = await setRootPassword.run(testContext(root(), { root_pw: 'x' }, { path: failing.path }), {});
  assert.is(bad.result, 'failed');
  assert.match(bad.detail, 'pam failure');
});

test('hostid: 4 bytes that the real hostid command reads back as the UUID prefix; nothing without sdc:uuid', async () => {
  const r = root();
  const out = await setHostid.run(testContext(r, { 'sdc:uuid': 'b2a1f3c4-aaaa-bbbb-cccc-1234567890ab' }), {});
  assert.is(out.result, 'ok');
  assert.is(statSync(join(r, 'etc/hostid')).size, 4);
  const none = root();
  assert.is((await setHostid.run(testContext(none, {}), {})).result, 'skipped');
  assert.not.ok(existsSync(join(none, 'etc/hostid')));
  assert.is((await setHostid.run(testContext(none, { 'sdc:uuid': 'not-a-uuid' }), {})).result, 'failed');
  assert.not.ok(existsSync(join(none, 'etc/hostid')));
  // glibc's gethostid() reads /etc/hostid: show it the root's /etc in a private mount namespace
  // (nothing is created or changed on the host's /etc).
  if (process.getuid?.() !== 0) return skipTest('the real hostid check needs root, for unshare --mount');
  const real = spawnSync('unshare', ['--mount', 'sh', '-c', `mount --bind '${r}/etc' /etc && hostid`], { encoding: 'utf8', timeout: 30_000 });
  assert.is(real.stdout.trim(), 'b2a1f3c4', real.stderr);
});

test('hostname: hostname, then sdc:hostname, then sdc:uuid; a bad one is skipped; /etc/hostname and /etc/hosts kept consistent', async () => {
  const r = root();
  const stubs = makeStubs({ hostnamectl: 0 });
  const ctx = testContext(r, { hostname: 'bad_name!', 'sdc:hostname': 'web01.example.com', 'sdc:uuid': '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f' }, { path: stubs.path });
  const out = await setHostname.run(ctx, {});
  assert.is(out.result, 'ok', out.detail);
  assert.is(read(r, 'etc/hostname'), 'web01.example.com\n');
  assert.is(read(r, 'etc/hosts'), `${DEBIAN_GUEST['/etc/hosts']}127.0.1.1\tweb01.example.com web01\n`);
  assert.equal(stubs.calls(), ['hostnamectl set-hostname web01.example.com']);
  assert.ok(ctx.lines.some((l) => l.startsWith('warn: hostname is not a valid host name')));
  const again = await setHostname.run(testContext(r, { 'sdc:uuid': '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f' }, { path: stubs.path }), {});
  assert.is(read(r, 'etc/hostname'), '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n');
  assert.match(read(r, 'etc/hosts'), /\n127\.0\.1\.1\t7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n$/);
  assert.not.match(read(r, 'etc/hosts'), 'web01');
  assert.is(again.result, 'ok');
});

test('hostname: a symlinked /etc/hosts stays a link, its target keeps its mode; hostnamectl failing falls back to hostname', async () => {
  const r = root({ '/etc/hosts.real': '127.0.0.1 localhost\n' });
  rmSync(join(r, 'etc/hosts'));
  symlinkSync('/etc/hosts.real', join(r, 'etc/hosts'));
  chmodSync(join(r, 'etc/hosts.real'), 0o640);
  const stubs = makeStubs({ hostnamectl: 1, hostname: 0 });
  const out = await setHostname.run(testContext(r, { hostname: 'db1' }, { path: stubs.path }), {});
  assert.is(out.result, 'ok', out.detail);
  assert.is(readlinkSync(join(r, 'etc/hosts')), '/etc/hosts.real');
  assert.is(read(r, 'etc/hosts.real'), '127.0.0.1 localhost\n127.0.1.1\tdb1\n');
  assert.is(mode(r, 'etc/hosts.real'), 0o640);
  assert.equal(stubs.calls(), ['hostnamectl set-hostname db1', 'hostname db1']);
});

test('user-data: written 0600; removed when the key is absent; left alone when it cannot be read', async () => {
  const r = root();
  assert.is((await getUserData.run(testContext(r, { 'user-data': 'line1\nsecret\n' }), {})).result, 'ok');
  assert.is(read(r, 'var/db/mdata-user-data'), 'line1\nsecret\n');
  assert.is(mode(r, 'var/db/mdata-user-data'), 0o600);
  const before = treeHash(r);
  const unavailable = getUserData.run(testContext(r, { 'user-data': undefined }), {});
  assert.instance(await unavailable.catch((e) => e), Error);
  assert.is(treeHash(r), before, 'nothing changed, no temp file left');
  assert.is((await getUserData.run(testContext(r, {}), {})).result, 'ok');
  assert.not.ok(existsSync(join(r, 'var/db/mdata-user-data')));
  assert.is((await getUserData.run(testContext(r, {}), {})).result, 'skipped');
});

test('scripts: a private 0700 file (not in /tmp), /bin/sh without a shebang, output logged, exit status right', async () => {
  const r = root();
  const marker = join(r, 'ran');
  const ctx = testContext(r, { 'sdc:operator-script': `echo "operator output"\necho ran > '${marker}'\n` });
  const out = await runOperatorScript.run(ctx, {});
  assert.is(out.result, 'ok', out.detail);
  assert.is(out.detail, 'operator-script exited 0');
  assert.ok(existsSync(marker));
  const file = join(r, 'var/lib/sdc-guest/scripts/operator-script');
  assert.is(mode(r, 'var/lib/sdc-guest/scripts'), 0o700);
  assert.is(mode(r, 'var/lib/sdc-guest/scripts/operator-script'), 0o700);
  assert.ok(ctx.lines.includes(`info: run: /bin/sh ${file}`));
  assert.ok(ctx.lines.includes('info: | operator output'));
  const failing = await runUserScript.run(testContext(r, { 'user-script': '#!/bin/sh\necho failing >&2\nexit 3\n' }), {});
  assert.equal(failing, { result: 'failed', detail: 'user-script exited 3' });
});

test('scripts: one that runs too long is killed at its limit, with its children', async () => {
  const r = root();
  const started = Date.now();
  // A duration no other process on this shared machine sleeps for, to find ours afterwards.
  const nap = `30.${process.pid}`;
  const out = await runUserScript.run(testContext(r, { 'user-script': `#!/bin/sh\nsleep ${nap} &\nsleep ${nap}\n` }), { '--user-script-timeout': '1' });
  assert.equal(out, { result: 'failed', detail: 'user-script killed after 1 s (time limit)' });
  assert.ok(Date.now() - started < 10_000);
  const left = pgrep(`sleep ${nap}`);
  assert.is(left, '', `children left: ${left}`);
});

test('scripts: one that leaves a process in the background is done when it exits, and the process lives on', async () => {
  const r = root();
  const nap = `40.${process.pid}`;
  const out = await runUserScript.run(testContext(r, { 'user-script': `#!/bin/sh\nsleep ${nap} &\necho started\nexit 0\n` }), { '--user-script-timeout': '20' });
  assert.equal(out, { result: 'ok', detail: 'user-script exited 0' });
  const alive = pgrep(`sleep ${nap}`);
  assert.ok(alive !== '', 'the background process was not killed');
  for (const pid of alive.split('\n')) process.kill(Number(pid), 'SIGKILL');
});

test('scripts are not run under --root unless the root is the running system', async () => {
  const r = root();
  const marker = join(r, 'ran');
  const out = await runUserScript.run(testContext(r, { 'user-script': `touch '${marker}'` }, { live: false }), {});
  assert.is(out.result, 'skipped');
  assert.not.ok(existsSync(marker));
});

test('ARP updates: arping on the default-route interface for each IPv4 address, all at once; skipped without arping', async () => {
  const ip = {
    script: `case "$*" in *route*) printf '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"}]';; *addr*) printf '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.5"},{"family":"inet6","local":"fe80::1"},{"family":"inet","local":"10.0.0.6"}]}]';; esac`,
  };
  // Each arping waits (5 s at most) until all four have started: run one after another, they fail.
  const started = mkdtempSync(join(tmpdir(), 'arping-'));
  const together = `if [ "$1" != -V ]; then touch '${started}'/$$; i=0; while [ $(ls '${started}' | wc -l) -lt 4 ]; do i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05; done; fi`;
  const stubs = makeStubs({ ip, arping: { stdout: 'arping from iputils 20221126', script: together } });
  const out = await sendArpUpdates.run(testContext(root(), {}, { path: stubs.path }), {});
  assert.is(out.result, 'ok', out.detail);
  assert.equal(stubs.calls().filter((c) => c.startsWith('arping -') && !c.startsWith('arping -V')).sort(), [
    'arping -A -c 2 -I eth0 10.0.0.5',
    'arping -A -c 2 -I eth0 10.0.0.6',
    'arping -U -c 2 -I eth0 10.0.0.5',
    'arping -U -c 2 -I eth0 10.0.0.6',
  ]);
  rmSync(started, { recursive: true });
  const none = await sendArpUpdates.run(testContext(root(), {}, { path: makeStubs({ ip }).path }), {});
  assert.equal(none, { result: 'skipped', detail: 'arping is not installed (Debian: iputils-arping); no gratuitous ARP sent' });
});

test('ARP updates: an arping that cannot be started is a problem of its own, and the others are still waited for', async () => {
  const ip = { script: `case "$*" in *route*) printf '[{"dev":"eth0"}]';; *addr*) printf '[{"addr_info":[{"family":"inet","local":"10.0.0.5"}]}]';; esac` };
  // After answering -V, the stub points its own first line at an interpreter that does not exist.
  const stubs = makeStubs({ ip, arping: { stdout: 'arping from iputils 20221126', script: `[ "$1" = -V ] && sed -i '1s|.*|#!/nonexistent/sh|' "$0"` } });
  const out = await sendArpUpdates.run(testContext(root(), {}, { path: stubs.path }), {});
  assert.is(out.result, 'failed');
  assert.match(out.detail, /^arping -U -c 2 -I eth0 10\.0\.0\.5: .*ENOENT.*; arping -A -c 2 -I eth0 10\.0\.0\.5: .*ENOENT/);
});

test('a dry run changes nothing and shows the plan, never a secret', async () => {
  const r = root({ '/var/db/mdata-user-data': 'old' });
  const before = treeHash(r);
  const stubs = makeStubs({ chpasswd: 0, hostnamectl: 0 });
  const metadata = { root_authorized_keys: KEYS, root_pw: PASSWORD, 'sdc:uuid': '12345678-aaaa-bbbb-cccc-1234567890ab', hostname: 'web01', 'user-data': 'top secret', 'user-script': 'echo hi' };
  const ctx = testContext(r, metadata, { dryRun: true, path: stubs.path });
  for (const action of [setRootAuthorizedKeys, setRootPassword, setHostid, setHostname, getUserData, runUserScript]) {
    const out = await action.run(ctx, {});
    assert.is.not(out.result, 'failed', `${action.name}: ${out.detail}`);
  }
  assert.is(treeHash(r), before);
  assert.equal(stubs.calls(), []);
  const printed = ctx.printed.join('');
  assert.match(printed, 'would write /etc/hostname mode 0644\n--- /dev/null\n+++ /etc/hostname\n@@ -0,0 +1,1 @@\n+web01\n');
  assert.match(printed, `would run: chpasswd -R ${r} (with input)`);
  assert.match(printed, 'would write /var/db/mdata-user-data mode 0600 (10 bytes, content not shown)');
  assert.not.match(printed, 's&s');
  assert.not.match(printed, 'top secret');
});

test.run();
