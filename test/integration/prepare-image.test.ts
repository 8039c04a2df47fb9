import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { withMarker } from '../../lib/network/marker';
import { prepareImage, prepareImageForImgadm, rootHasPassword } from '../../lib/image/prepare-image';
import { openMetadataSession } from '../../lib/client/session';
import { testContext } from '../support/guest-context';
import { MetadataHost } from '../support/metadata-host';
import { makeStubs } from '../support/stubs';
import { isPresent, treeListing } from '../support/tree';

const work = mkdtempSync(join(tmpdir(), 'prepare-image-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Paths prepare-image must remove, with content. */
const GOES: Record<string, string> = {
  '/var/log/syslog': 'boot messages\n',
  '/var/log/apt/history.log': 'Start-Date: 2024\n',
  '/var/log/journal/0123/system.journal': 'journal',
  '/var/log/sdc-guest.log': 'user-script output\n',
  '/var/lib/sdc-guest/scripts/user-script': '#!/bin/sh\n',
  '/var/log/cloud-init.log': 'ci\n',
  '/root/.bash_history': 'rm -rf /tmp/x\n',
  '/root/.viminfo': 'vim\n',
  '/home/alice/.bash_history': 'ls\n',
  '/root/.ssh/authorized_keys': 'ssh-ed25519 AAAA root@old\n',
  '/etc/ssh/ssh_host_ed25519_key': 'PRIVATE',
  '/etc/ssh/ssh_host_ed25519_key.pub': 'ssh-ed25519 AAAA host\n',
  '/etc/ssh/ssh_host_rsa_key': 'PRIVATE',
  '/etc/ssh/ssh_host_rsa_key.pub': 'ssh-rsa AAAA host\n',
  '/var/lib/dhcp/dhclient.eth0.leases': 'lease {}\n',
  '/var/lib/dhclient/dhclient--eth0.lease': 'lease {}\n',
  '/var/lib/NetworkManager/internal-1234-eth0.lease': 'ADDRESS=10.0.0.5\n',
  '/var/lib/NetworkManager/secret_key': 'secret',
  '/etc/udev/rules.d/70-persistent-net.rules': 'SUBSYSTEM=="net", ATTR{address}=="aa:bb:cc:dd:ee:ff", NAME="eth0"\n',
  '/etc/netplan/50-sdc-guest.yaml': withMarker('network: {version: 2}\n'),
  '/etc/systemd/network/50-sdc-net0.network': withMarker('[Match]\nMACAddress=aa:bb:cc:dd:ee:ff\n'),
  '/etc/NetworkManager/system-connections/Wired.nmconnection': '[connection]\nid=Wired\n[ethernet]\nmac-address=AA:BB:CC:DD:EE:FF\n',
  '/etc/sysconfig/network-scripts/ifcfg-eth0': 'DEVICE=eth0\nHWADDR=aa:bb:cc:dd:ee:ff\nBOOTPROTO=dhcp\n',
  '/var/lib/dbus/machine-id': '0123456789abcdef0123456789abcdef\n',
  '/var/lib/systemd/random-seed': 'seed',
  '/var/lib/cloud/instances/abc/obj.pkl': 'pickle',
  '/var/lib/cloud/data/instance-id': 'abc\n',
  '/var/cache/apt/archives/vim_9.0_amd64.deb': 'deb',
  '/var/cache/apt/archives/partial/x.deb': 'partial',
  '/var/lib/sdc-guest/state.json': '{"instance":"abc"}\n',
  '/var/db/mdata-user-data': 'user data\n',
  '/etc/hostid': '\x78\x56\x34\x12',
  '/lib/smartdc/.firstboot-complete-do-not-delete': '',
  '/var/tmp/user-script.lock': '',
};

/** Paths that stay but are emptied. */
const EMPTIED = ['/etc/machine-id', '/var/log/wtmp'];

/** Paths that must stay exactly as they are. */
const KEEPS: Record<string, string> = {
  '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
  '/var/log/wtmp': 'login records',
  '/home/alice/notes.txt': 'keep me\n',
  '/home/alice/.ssh/authorized_keys': 'ssh-ed25519 AAAA alice\n',
  '/root/.ssh/known_hosts': 'host ssh-ed25519 AAAA\n',
  '/etc/ssh/sshd_config': 'PermitRootLogin prohibit-password\n',
  '/etc/udev/rules.d/99-custom.rules': '# mine\n',
  '/etc/netplan/01-user.yaml': 'network: {version: 2, ethernets: {eth1: {dhcp4: true}}}\n',
  '/etc/NetworkManager/system-connections/by-name.nmconnection': '[connection]\nid=eth1\ninterface-name=eth1\n',
  '/etc/sysconfig/network-scripts/ifcfg-lo': 'DEVICE=lo\nONBOOT=yes\n',
  '/var/lib/NetworkManager/NetworkManager.state': '[main]\nNetworkingEnabled=true\n',
  '/var/cache/apt/archives/lock': '',
  '/etc/shadow': 'root:$6$salt$hash:19000:0:99999:7:::\nfakeroot:!:19000::::::\n',
  '/etc/fstab': '/dev/vda1 / ext4 defaults 0 1\n',
  '/usr/bin/ssh-keygen': '#!/bin/sh\n',
  '/usr/sbin/arping': '#!/bin/sh\n',
  '/keep/target.txt': 'a symlink in /var/log points here\n',
  '/etc/systemd/system/.keep': '',
};

function populate(root: string, outside: string): void {
  for (const [path, data] of Object.entries({ ...KEEPS, ...GOES })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  chmodSync(join(root, 'etc/shadow'), 0o640);
  // Planted symlinks: removing them must never touch what they point to.
  symlinkSync('/keep/target.txt', join(root, 'var/log/link-into-root'));
  symlinkSync(outside, join(root, 'var/log/link-out-of-root'));
  symlinkSync('/etc', join(root, 'var/log/folder-link'));
}

const LINKS = ['/var/log/link-into-root', '/var/log/link-out-of-root', '/var/log/folder-link'];
/** Our scripts folder goes whole. */
const GONE_FOLDERS = ['/var/lib/sdc-guest/scripts'];
const ADDED = ['/etc/systemd/system/sdc-ssh-keygen.service', '/etc/systemd/system/multi-user.target.wants'];

let n = 0;
function fresh() {
  const dir = join(work, `case-${++n}`);
  const root = join(dir, 'root');
  const outside = join(dir, 'outside.txt');
  mkdirSync(root, { recursive: true });
  writeFileSync(outside, 'outside the root\n');
  populate(root, outside);
  const stubs = makeStubs({ poweroff: 0, 'cloud-init': 0, 'apt-get': 0 }, join(dir, 'stubs'));
  return { root, outside, path: `${stubs.path}:${process.env.PATH}`, calls: () => stubs.calls() };
}

test('everything on the list goes, everything else is untouched', async () => {
  const g = fresh();
  const before = treeListing(g.root, { exclude: [...Object.keys(GOES), ...EMPTIED, ...LINKS, ...GONE_FOLDERS] });
  // An image root that is not the running system (--root without --live).
  const ctx = testContext(g.root, {}, { path: g.path, live: false });
  const code = await prepareImage(ctx, { strict: false });
  assert.is(code, 0, ctx.lines.join('\n'));
  for (const path of [...Object.keys(GOES), ...LINKS, ...GONE_FOLDERS]) assert.not.ok(isPresent(join(g.root, path)), `${path} is gone`);
  for (const path of EMPTIED) assert.is(statSync(join(g.root, path)).size, 0, `${path} is emptied, not removed`);
  assert.fixture(treeListing(g.root, { exclude: [...Object.keys(GOES), ...EMPTIED, ...LINKS, ...GONE_FOLDERS, ...ADDED] }), before, 'nothing else changed');
  assert.is(readFileSync(g.outside, 'utf8'), 'outside the root\n');
  assert.is(readFileSync(join(g.root, 'keep/target.txt'), 'utf8'), KEEPS['/keep/target.txt']);
  // No cloud-init or sshd-keygen in this root: our unit regenerates the host keys.
  assert.match(readFileSync(join(g.root, 'etc/systemd/system/sdc-ssh-keygen.service'), 'utf8'), 'ExecStart=/usr/bin/ssh-keygen -A');
  assert.is(readlinkSync(join(g.root, 'etc/systemd/system/multi-user.target.wants/sdc-ssh-keygen.service')), '../sdc-ssh-keygen.service');
  assert.match(ctx.lines.join('\n'), 'warn: root has a password');
  assert.match(ctx.lines.join('\n'), 'warn: neither acpid nor qemu-guest-agent');
  assert.not.match(ctx.lines.join('\n'), 'arping is not installed');
  assert.match(ctx.lines.join('\n'), 'not running cloud-init clean --logs --seed: the root is not the running system');
  assert.equal(g.calls(), [], 'no system command ran against the host');

  // A second run has nothing left to do and changes nothing.
  const after = treeListing(g.root);
  assert.is(await prepareImage(testContext(g.root, {}, { path: g.path, live: false }), { strict: false }), 0);
  assert.fixture(treeListing(g.root), after);
});

test('symlinks in the middle of a path resolve inside the root: nothing outside it is removed', async () => {
  const g = fresh();
  const victim = join(g.root, '..', 'victim');
  mkdirSync(join(victim, 'ssh'), { recursive: true });
  writeFileSync(join(victim, 'ssh', 'authorized_keys'), 'ssh-ed25519 AAAA outside\n');
  writeFileSync(join(victim, '.bash_history'), 'outside\n');
  rmSync(join(g.root, 'root/.ssh'), { recursive: true, force: true });
  // Absolute links, as in a mounted image: inside the root they mean the root's own folders.
  symlinkSync(join(victim, 'ssh'), join(g.root, 'root/.ssh'));
  symlinkSync(victim, join(g.root, 'home/bob'));
  const ctx = testContext(g.root, {}, { path: g.path });
  assert.is(await prepareImage(ctx, { strict: false }), 0, ctx.lines.join('\n'));
  assert.is(readFileSync(join(victim, 'ssh', 'authorized_keys'), 'utf8'), 'ssh-ed25519 AAAA outside\n');
  assert.is(readFileSync(join(victim, '.bash_history'), 'utf8'), 'outside\n');
});

test('a network file of ours that was edited since is kept, with a warning', async () => {
  const g = fresh();
  const edited = `${withMarker('network: {version: 2}\n')}# edited by hand\n`;
  writeFileSync(join(g.root, 'etc/netplan/60-sdc-edited.yaml'), edited);
  const ctx = testContext(g.root, {}, { path: g.path });
  assert.is(await prepareImage(ctx, { strict: false }), 0);
  assert.is(readFileSync(join(g.root, 'etc/netplan/60-sdc-edited.yaml'), 'utf8'), edited);
  assert.match(ctx.lines.join('\n'), 'warn: /etc/netplan/60-sdc-edited.yaml was written by configure-network and edited since: kept');
  assert.not.ok(existsSync(join(g.root, 'etc/netplan/50-sdc-guest.yaml')), 'the unedited one is removed');
});

test('a dry run lists every path and changes nothing', async () => {
  const g = fresh();
  const before = treeListing(g.root);
  const ctx = testContext(g.root, {}, { dryRun: true, path: g.path });
  assert.is(await prepareImage(ctx, { strict: false }), 0);
  assert.fixture(treeListing(g.root), before);
  const log = ctx.lines.join('\n');
  const inGoneFolder = (path: string) => GONE_FOLDERS.some((folder) => path.startsWith(`${folder}/`));
  for (const path of [...Object.keys(GOES).filter((p) => !inGoneFolder(p)), ...LINKS, ...GONE_FOLDERS]) assert.match(log, `would remove ${path} (`);
  for (const path of EMPTIED) assert.match(log, `would empty ${path} (`);
  assert.match(log, 'would write /etc/systemd/system/sdc-ssh-keygen.service');
  assert.match(log, 'would run: cloud-init clean --logs --seed (cloud-init state)');
  assert.equal(g.calls(), []);
});

test('--strict: warnings fail and nothing is cleaned', async () => {
  const g = fresh();
  const before = treeListing(g.root);
  const ctx = testContext(g.root, {}, { path: g.path });
  assert.is(await prepareImage(ctx, { strict: true }), 1);
  assert.fixture(treeListing(g.root), before);
  assert.match(ctx.lines.join('\n'), 'error: 2 warning(s) and --strict: nothing cleaned');
});

test('ssh host keys stay, with a warning, when nothing would regenerate them', async () => {
  const g = fresh();
  rmSync(join(g.root, 'etc/systemd'), { recursive: true });
  const ctx = testContext(g.root, {}, { path: g.path });
  assert.is(await prepareImage(ctx, { strict: false }), 0);
  assert.ok(existsSync(join(g.root, 'etc/ssh/ssh_host_rsa_key')));
  assert.match(ctx.lines.join('\n'), 'warn: nothing would regenerate ssh host keys');
  const c = fresh();
  writeFileSync(join(c.root, 'usr/bin/cloud-init'), '#!/bin/sh\n');
  const withCloudInit = testContext(c.root, {}, { path: c.path });
  await prepareImage(withCloudInit, { strict: false });
  assert.match(withCloudInit.lines.join('\n'), 'remove /etc/ssh/ssh_host_rsa_key (ssh host key (regenerated by cloud-init))');
  assert.not.ok(existsSync(join(c.root, 'etc/systemd/system/sdc-ssh-keygen.service')));
});

test('the root-password check reads root only, and locked or empty fields are no password', () => {
  assert.ok(rootHasPassword('root:$6$x$y:1::::::\n'));
  for (const field of ['', '*', '!', '!!', '!$6$x$y']) assert.not.ok(rootHasPassword(`root:${field}:1::::::\nfakeroot:$6$a$b:1::::::\n`), field);
  assert.not.ok(rootHasPassword('myroot:$6$a$b:1::::::\n'));
});

test('imgadm: running, then success, then power off; a failure reports error with its text', async () => {
  const g = fresh();
  const puts: string[] = [];
  const reporter = { put: async (k: string, v: string) => void puts.push(`${k}=${v}`), close: async () => void puts.push('closed') };
  const ctx = testContext(g.root, {}, { path: g.path });
  assert.is(await prepareImageForImgadm(ctx, { strict: false }, reporter), 0);
  assert.equal(puts, ['prepare-image:state=running', 'prepare-image:state=success', 'closed']);
  // The root is the running system here: the cleanups run, then the power-off.
  assert.equal(g.calls(), ['cloud-init clean --logs --seed', 'apt-get clean', 'poweroff ']);

  const h = fresh();
  const failing: string[] = [];
  const strict = testContext(h.root, {}, { path: h.path });
  assert.is(await prepareImageForImgadm(strict, { strict: true }, { put: async (k, v) => void failing.push(`${k}=${v}`), close: async () => undefined }), 2);
  assert.equal(failing, ['prepare-image:state=running', 'prepare-image:error=warnings with --strict', 'prepare-image:state=error']);
  assert.equal(h.calls(), ['poweroff ']);
  // Under --root without --live the root is not the running system: nothing powers off.
  const i = fresh();
  const notLive = testContext(i.root, {}, { path: i.path, live: false });
  assert.is(await prepareImageForImgadm(notLive, { strict: false }, { put: async () => undefined, close: async () => undefined }), 0);
  assert.equal(i.calls(), []);
  assert.match(notLive.lines.join('\n'), 'not run, the root is not the running system: poweroff');
});

test('imgadm: the state values reach a real mdata-server through a metadata session', async () => {
  const fixtures = join(__dirname, '..', 'fixtures', 'server');
  const host = await new MetadataHost(join(fixtures, 'metadata.json'), join(fixtures, 'vm.json')).start(false);
  try {
    const target = { kind: 'socket' as const, path: host.socket };
    const session = () => openMetadataSession({ budgetSeconds: 20, target });
    const values = async (...keys: string[]) => {
      const s = await session();
      try {
        return await Promise.all(keys.map((k) => s.get(k)));
      } finally {
        await s.close();
      }
    };
    const g = fresh();
    assert.is(await prepareImageForImgadm(testContext(g.root, {}, { path: g.path }), { strict: false }, await session()), 0);
    assert.equal(await values('prepare-image:state', 'prepare-image:error'), ['success', null]);
    assert.equal(g.calls(), ['cloud-init clean --logs --seed', 'apt-get clean', 'poweroff ']);

    const h = fresh();
    assert.is(await prepareImageForImgadm(testContext(h.root, {}, { path: h.path }), { strict: true }, await session()), 2);
    assert.equal(await values('prepare-image:state', 'prepare-image:error'), ['error', 'warnings with --strict']);
  } finally {
    await host.close();
  }
});

test.run();
