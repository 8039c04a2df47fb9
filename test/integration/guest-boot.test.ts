// `sdc-guest boot` end to end: the node bundle (and once the real executable) against a real
// mdata-server over a unix socket and a pty, a prefix root from fixtures, recording stubs on PATH.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetadataHost } from '../support/metadata-host';
import { bundleCommand, linuxExecutableCommand, runTool, type ToolCommand } from '../support/run-tool';
import { ScriptedHost } from '../support/scripted-host';
import { DEBIAN_GUEST, makeGuestRoot } from '../support/guest-root';
import { treeListing } from '../support/tree';
import { makeStubs, type Stubs } from '../support/stubs';

const scratch = mkdtempSync(join(tmpdir(), 'guest-boot-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const UUID = '12345678-aaaa-bbbb-cccc-1234567890ab';
const PASSWORD = `p%a^s&s!"'w o\\rd é`;
const MAC = '90:b8:d0:00:00:01';

/** The system commands boot uses, recording; `ip` answers with a default route on eth0. */
function bootStubs(): Stubs {
  return makeStubs({
    ip: { script: `case "$*" in *route*) printf '[{"dst":"default","gateway":"10.88.88.1","dev":"eth0"}]';; *addr*) printf '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.88.88.10"}]}]';; esac` },
    ifup: 0,
    ifdown: 0,
    chpasswd: 0,
    hostnamectl: 0,
    restorecon: 0,
    arping: { stdout: 'arping from iputils-20221126' },
    logger: 0,
  });
}

/** A guest root, a metadata server for it, and a way to run sdc-guest boot against both. */
async function bootSetup(options: { pty?: boolean; metadata?: Record<string, string>; uuid?: string } = {}) {
  const dir = mkdtempSync(join(scratch, 'case-'));
  const root = makeGuestRoot(DEBIAN_GUEST, dir);
  const order = join(dir, 'script-runs.log');
  const customer = {
    root_authorized_keys: 'ssh-ed25519 AAAAC3Nza key-one\n',
    hostname: 'web01',
    'user-data': 'secret user data\n',
    'user-script': `#!/bin/sh\necho "user $(cat /proc/self/stat | cut -d' ' -f1)" >> '${order}'\n`,
    ...options.metadata,
  };
  const metadataFile = join(dir, 'metadata.json');
  writeFileSync(metadataFile, JSON.stringify({ customer_metadata: customer, internal_metadata: { root_pw: PASSWORD, 'operator-script': `echo operator >> '${order}'` } }));
  const vm = (uuid: string) => JSON.stringify({ uuid, nics: [{ interface: 'net0', mac: MAC, ips: ['10.88.88.10/24'], gateways: ['10.88.88.1'], primary: true }], resolvers: ['8.8.8.8'] });
  const vmFile = join(dir, 'vm.json');
  writeFileSync(vmFile, vm(options.uuid ?? UUID));
  let host = await new MetadataHost(metadataFile, vmFile).start(options.pty === true);
  const stubs = bootStubs();
  return {
    dir,
    root,
    stubs,
    runs: () => (existsSync(order) ? readFileSync(order, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]) : []),
    env: () => ({ PATH: `${stubs.path}:${process.env.PATH}`, ...host.env(options.pty === true) }),
    boot(args: string[] = [], command: ToolCommand = bundleCommand, live = true) {
      return runTool(command, 'sdc-guest', ['boot', '--root', root, ...(live ? ['--live'] : []), ...args], { env: this.env(), killAfterMs: 60_000 });
    },
    async newInstance(uuid: string) {
      await host.close();
      writeFileSync(vmFile, vm(uuid));
      host = await new MetadataHost(metadataFile, vmFile).start(options.pty === true);
    },
    state: () => JSON.parse(readFileSync(join(root, 'var/lib/sdc-guest/state.json'), 'utf8')),
    close: () => host.close(),
  };
}

const count = (stubs: Stubs, prefix: string) => stubs.calls().filter((c) => c.startsWith(prefix)).length;

for (const pty of [false, true]) {
  test(`first boot over ${pty ? 'a pty' : 'a unix socket'}: every action applied, in order, in one session`, async () => {
    const s = await bootSetup({ pty });
    try {
      const r = await s.boot();
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, /sdc-guest boot: 10 ok, 0 failed, 0 skipped\n$/);
      const root = s.root;
      assert.is(readFileSync(join(root, 'root/.ssh/authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAC3Nza key-one\n');
      assert.is(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'web01\n');
      assert.equal([...readFileSync(join(root, 'etc/hostid'))], [0x78, 0x56, 0x34, 0x12]);
      assert.is(readFileSync(join(root, 'var/db/mdata-user-data'), 'utf8'), 'secret user data\n');
      assert.match(readFileSync(join(root, 'etc/network/interfaces.d/50-sdc-eth0'), 'utf8'), 'address 10.88.88.10/24');
      assert.equal(s.runs(), ['operator', 'user']);
      assert.equal(s.stubs.inputs('chpasswd'), [`root:${PASSWORD}\n`]);
      assert.is(s.state().instance, UUID);
      // stderr is not the journal here, so the results also went to syslog, once.
      const syslog = s.stubs.inputs('logger');
      assert.is(syslog.length, 1);
      assert.match(syslog[0], /^configure-network: ok: ifupdown: 2 file\(s\) written, 0 removed\n(.*\n){9}boot: 10 ok, 0 failed, 0 skipped\n$/);
      // The secret is in chpasswd's stdin only: not in any command line, the log file or stderr.
      const log = readFileSync(join(root, 'var/log/sdc-guest.log'), 'utf8');
      for (const text of [s.stubs.calls().join('\n'), log, r.stderr]) assert.not.match(text, 's&s');
      assert.not.match(log + r.stderr, 'secret user data');
    } finally {
      await s.close();
    }
  });
}

test('an active cloud-init (installed anywhere on the usual paths, not disabled) gets its share; disabled, boot does it all', async () => {
  const s = await bootSetup();
  try {
    mkdirSync(join(s.root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(s.root, 'usr/local/bin/cloud-init'), '#!/usr/bin/python3\n', { mode: 0o755 });
    const active = await s.boot();
    assert.is(active.code, 0, active.stderr);
    for (const action of ['configure-network', 'set-hostname', 'run-operator-script', 'run-user-script', 'get-user-data']) {
      assert.match(active.stderr, `${action}: skipped: left to cloud-init, which is active`);
    }
    assert.match(active.stderr, /sdc-guest boot: 5 ok, 0 failed, 5 skipped\n$/);
    assert.equal(s.runs(), []);
    mkdirSync(join(s.root, 'etc/cloud'), { recursive: true });
    writeFileSync(join(s.root, 'etc/cloud/cloud-init.disabled'), '');
    const disabled = await s.boot();
    assert.is(disabled.code, 0, disabled.stderr);
    assert.not.match(disabled.stderr, 'left to cloud-init');
    assert.equal(s.runs(), ['operator', 'user']);
  } finally {
    await s.close();
  }
});

test('a second boot runs the first-boot actions zero times and the per-boot ones again; a new sdc:uuid starts over', async () => {
  const s = await bootSetup();
  try {
    assert.is((await s.boot()).code, 0);
    const second = await s.boot();
    assert.is(second.code, 0, second.stderr);
    assert.match(second.stderr, 'set-rootpassword: skipped: done for this instance');
    assert.match(second.stderr, 'set-hostid: skipped: done for this instance');
    assert.match(second.stderr, 'run-user-script: skipped: done for this instance');
    assert.equal(s.runs(), ['operator', 'user', 'operator']);
    assert.is(count(s.stubs, 'chpasswd'), 1);
    assert.is(count(s.stubs, 'hostnamectl'), 2);
    await s.newInstance('abcdef01-aaaa-bbbb-cccc-1234567890ab');
    const third = await s.boot();
    assert.is(third.code, 0, third.stderr);
    assert.match(third.stderr, `new instance abcdef01-aaaa-bbbb-cccc-1234567890ab (was ${UUID})`);
    assert.equal(s.runs(), ['operator', 'user', 'operator', 'operator', 'user']);
    assert.is(count(s.stubs, 'chpasswd'), 2);
    assert.equal([...readFileSync(join(s.root, 'etc/hostid'))], [0x01, 0xef, 0xcd, 0xab]);
  } finally {
    await s.close();
  }
});

test('as the units run it: boot --scripts-later stages the scripts, boot-scripts runs them in order with no session', async () => {
  const s = await bootSetup();
  try {
    const early = await s.boot(['--scripts-later']);
    assert.is(early.code, 0, early.stderr);
    assert.match(early.stderr, /sdc-guest boot: 8 ok, 0 failed, 0 skipped, 2 staged for boot-scripts\n$/);
    assert.equal(s.runs(), []);
    assert.equal(JSON.parse(readFileSync(join(s.root, 'var/lib/sdc-guest/scripts/pending.json'), 'utf8')).map((p: { action: string }) => p.action), ['run-operator-script', 'run-user-script']);
    assert.is(s.state().actions['run-user-script'].result, 'staged');
    // No metadata service at all: boot-scripts needs none.
    const late = await runTool(bundleCommand, 'sdc-guest', ['boot-scripts', '--root', s.root, '--live'], { env: { PATH: s.env().PATH, MDATA_SOCKET: join(s.dir, 'no-such.sock') } });
    assert.is(late.code, 0, late.stderr);
    assert.match(late.stderr, /sdc-guest boot-scripts: 2 ok, 0 failed, 0 skipped\n$/);
    assert.equal(s.runs(), ['operator', 'user']);
    assert.not.ok(existsSync(join(s.root, 'var/lib/sdc-guest/scripts/pending.json')));
    assert.is(s.state().actions['run-user-script'].result, 'ok');
    // The next boot: the user-script is done for this instance, the operator-script runs again.
    assert.match((await s.boot(['--scripts-later'])).stderr, 'run-user-script: skipped: done for this instance');
    assert.match((await runTool(bundleCommand, 'sdc-guest', ['boot-scripts', '--root', s.root, '--live'], { env: s.env() })).stderr, /boot-scripts: 1 ok, 0 failed, 0 skipped\n$/);
    assert.equal(s.runs(), ['operator', 'user', 'operator']);
  } finally {
    await s.close();
  }
});

test('a failed first-boot user-script runs again on the next boot; with run_userscript_flag it runs every boot', async () => {
  const flagFile = join(scratch, 'fail-once');
  writeFileSync(flagFile, '');
  const s = await bootSetup({ metadata: { 'user-script': `#!/bin/sh\nif [ -e '${flagFile}' ]; then rm '${flagFile}'; exit 4; fi\necho user >> '${join(scratch, 'retries.log')}'\n` } });
  try {
    const first = await s.boot();
    assert.is(first.code, 2);
    assert.match(first.stderr, 'run-user-script: error: failed: user-script exited 4');
    assert.match(first.stderr, /sdc-guest boot: 9 ok, 1 failed \(run-user-script\), 0 skipped\n$/);
    assert.is(s.state().actions['run-user-script'].result, 'failed');
    assert.is((await s.boot()).code, 0);
    assert.match((await s.boot()).stderr, 'run-user-script: skipped: done for this instance');
    assert.is(readFileSync(join(scratch, 'retries.log'), 'utf8'), 'user\n');
  } finally {
    await s.close();
  }
  const every = await bootSetup({ metadata: { run_userscript_flag: 'TRUE' } });
  try {
    await every.boot();
    await every.boot();
    assert.equal(every.runs(), ['operator', 'user', 'operator', 'user']);
  } finally {
    await every.close();
  }
});

test('a user-script that restarts the guest (here: kills the boot) is not run again at the next boot', async () => {
  const s = await bootSetup({ metadata: { 'user-script': `#!/bin/sh\necho user >> '${join(scratch, 'restarts.log')}'\nkill -9 $PPID\n` } });
  try {
    const killed = await s.boot();
    assert.is(killed.code, null, 'the boot was killed from inside its user-script');
    assert.is(s.state().actions['run-user-script'].result, 'started');
    const next = await s.boot();
    assert.is(next.code, 0, next.stderr);
    assert.match(next.stderr, /run-user-script: skipped: started at \S+ and never finished \(did it restart the guest\?\): not run again for this instance/);
    assert.is(readFileSync(join(scratch, 'restarts.log'), 'utf8'), 'user\n');
  } finally {
    await s.close();
  }
});

test('a host that never answers: the boot ends within its budget, says why, and the next boot tries again', async () => {
  const host = await new ScriptedHost({ silent: true }).listen();
  const root = makeGuestRoot(DEBIAN_GUEST, scratch);
  const stubs = bootStubs();
  try {
    const r = await runTool(bundleCommand, 'sdc-guest', ['boot', '--root', root, '--live', '--timeout', '2'], { env: { PATH: `${stubs.path}:${process.env.PATH}`, MDATA_SOCKET: host.path }, killAfterMs: 30_000 });
    assert.is(r.code, 2);
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    assert.match(r.stderr, 'boot: warn: metadata: timed out after 2 s: no reply from the metadata service');
    assert.match(r.stderr, 'set-hostid: error: failed: metadata unavailable: sdc:uuid could not be read: timed out after 2 s');
    assert.match(r.stderr, /sdc-guest boot: \d+ ok, \d+ failed \(.*set-hostid.*\), \d+ skipped\n$/);
    const state = JSON.parse(readFileSync(join(root, 'var/lib/sdc-guest/state.json'), 'utf8'));
    assert.is(state.actions['set-hostid'].result, 'failed', 'the next boot runs it again');
    assert.not.ok(existsSync(join(root, 'etc/hostid')));
  } finally {
    await host.close();
  }
});

test('--dry-run changes nothing, runs nothing but reads, and shows the plan without secrets', async () => {
  const s = await bootSetup();
  try {
    const before = treeListing(s.root, { withDir: true });
    const r = await s.boot(['--dry-run']);
    assert.is(r.code, 0, r.stderr);
    assert.fixture(treeListing(s.root, { withDir: true }), before);
    assert.equal(s.runs(), []);
    assert.ok(s.stubs.calls().every((c) => c.startsWith('ip -j') || c === 'arping -V'), s.stubs.calls().join('\n'));
    const out = r.stdout.toString();
    assert.match(out, 'would write /etc/hostname mode 0644\n--- /dev/null\n+++ /etc/hostname\n@@ -0,0 +1,1 @@\n+web01\n');
    assert.match(out, `would run: chpasswd -R ${s.root} (with input)`);
    assert.match(out, 'would run: hostnamectl set-hostname web01');
    assert.match(out, 'would write /var/db/mdata-user-data mode 0600 (17 bytes, content not shown)');
    assert.not.match(out + r.stderr, 's&s');
    assert.not.match(out + r.stderr, 'secret user data');
  } finally {
    await s.close();
  }
});

test('without --live, --root changes only files: no command that acts on the running system runs', async () => {
  const s = await bootSetup();
  try {
    const r = await s.boot([], bundleCommand, false);
    assert.is(r.code, 0, r.stderr);
    assert.is(readFileSync(join(s.root, 'etc/hostname'), 'utf8'), 'web01\n');
    assert.equal(s.runs(), [], 'scripts act on the running system');
    assert.equal(s.stubs.calls(), [`chpasswd -R ${s.root}`], 'only the command that works on the root itself');
    assert.match(r.stderr, 'set-hostname: not run, the root is not the running system: hostnamectl set-hostname web01');
    assert.match(r.stderr, 'run-user-script: skipped: user-script not run: the root is not the running system');
  } finally {
    await s.close();
  }
});

test('the real Linux executable runs sdc-guest boot --root over a pty', async () => {
  const s = await bootSetup({ pty: true });
  try {
    const r = await s.boot([], linuxExecutableCommand);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /sdc-guest boot: 10 ok, 0 failed, 0 skipped\n$/);
    assert.is(readFileSync(join(s.root, 'etc/hostname'), 'utf8'), 'web01\n');
    assert.equal(s.runs(), ['operator', 'user']);
  } finally {
    await s.close();
  }
});

test('status: platform, transport, protocol, instance and the last results', async () => {
  const s = await bootSetup();
  try {
    await s.boot();
    const r = await runTool(bundleCommand, 'sdc-guest', ['status', '--root', s.root], { env: s.env() });
    assert.is(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^platform: linux\ntransport: socket \S+metadata.sock\nprotocol: V2\ninstance: 12345678-aaaa-bbbb-cccc-1234567890ab\nstate: \/var\/lib\/sdc-guest\/state.json \(instance 12345678-aaaa-bbbb-cccc-1234567890ab\)\n/);
    assert.match(out, /\n  set-hostid +ok +\S+  hostid 12345678\n/);
    const gone = await runTool(bundleCommand, 'sdc-guest', ['status', '--root', s.root, '--timeout', '1'], { env: { MDATA_SOCKET: join(s.dir, 'nothing-here.sock') } });
    assert.is(gone.code, 2);
    assert.match(gone.stdout.toString(), 'metadata service: unavailable: timed out after 1 s: Could not find metadata socket.');
  } finally {
    await s.close();
  }
});

test.run();
