import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configureNetwork } from '../../lib/network/configure';
import { ownership } from '../../lib/network/marker';
import { detectStack, Probe } from '../../lib/network/stacks';
import { testContext } from '../support/guest-context';
import { makeStubs } from '../support/stubs';

// The configure-network action over prefix roots laid out like each distribution, with real files
// and recording stubs of ifup/ifdown/ip/networkctl on PATH.

const NIC0 = { mac: '90:b8:d0:00:00:01', interface: 'net0', ips: ['10.88.88.10/24'], gateways: ['10.88.88.1'], primary: true };
const NIC1 = { mac: '90:b8:d0:00:00:02', interface: 'net1', ips: ['192.168.64.10/22'] };
const metadata = (nics: unknown[] | null, resolvers: string[] | null = ['8.8.8.8']) => ({
  'sdc:nics': nics === null ? null : JSON.stringify(nics),
  'sdc:resolvers': resolvers === null ? null : JSON.stringify(resolvers),
  'sdc:dns_domain': 'example.com',
  'sdc:routes': null,
});

let tmp = '';
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'configure-network-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, path: string, content = '', mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content, { mode });
}

/** A guest root with eth0 and eth1 (by MAC) and the given files. */
function guest(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [n, mac] of [['eth0', NIC0.mac], ['eth1', NIC1.mac]]) {
    put(root, `/sys/class/net/${n}/address`, `${mac}\n`);
    mkdirSync(join(root, `sys/class/net/${n}/device`), { recursive: true });
  }
  for (const [path, content] of Object.entries(files)) put(root, path, content);
  return root;
}

const DEBIAN = { '/usr/sbin/ifup': '', '/etc/network/interfaces': 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n' };

/** Recording stubs: each appends its name and arguments to calls.log and exits with its code. */
function stubs(name: string, codes: Record<string, number>): { path: string; calls: () => string[] } {
  return makeStubs(codes, join(tmp, `${name}-bin`));
}

test('detection order: netplan, NetworkManager, networkd, ifupdown, ifcfg (Red Hat, then SUSE)', async () => {
  const wants = '/etc/systemd/system/multi-user.target.wants';
  const layouts: [string, Record<string, string>, string | null][] = [
    ['ubuntu', { '/usr/sbin/netplan': '', '/etc/netplan/.keep': '', [`${wants}/NetworkManager.service`]: '', ...DEBIAN }, 'netplan'],
    ['rhel8', { '/usr/sbin/NetworkManager': '', [`${wants}/NetworkManager.service`]: '', '/etc/sysconfig/network-scripts/ifcfg-lo': '' }, 'networkmanager'],
    ['arch', { '/usr/lib/systemd/systemd-networkd': '', [`${wants}/systemd-networkd.service`]: '', ...DEBIAN }, 'networkd'],
    ['debian', { ...DEBIAN, '/usr/sbin/NetworkManager': '' }, 'ifupdown'],
    ['centos6', { '/etc/sysconfig/network': 'NETWORKING=yes\n', '/etc/sysconfig/network-scripts/ifcfg-lo': '' }, 'ifcfg-rh'],
    ['sles', { '/etc/sysconfig/network/config': '' }, 'ifcfg-suse'],
    ['bare', {}, null],
  ];
  for (const [name, files, expected] of layouts) {
    const stack = await detectStack(new Probe(testContext(guest(`detect-${name}`, files)).files));
    assert.is(stack?.name ?? null, expected, name);
  }
  const masked = guest('detect-masked', { '/usr/sbin/NetworkManager': '', [`${wants}/NetworkManager.service`]: '' });
  symlinkSync('/dev/null', join(masked, 'etc/systemd/system/NetworkManager.service'));
  assert.is(await detectStack(new Probe(testContext(masked).files)), null, 'a masked unit is not enabled');
});

test('ifupdown: writes each NIC and resolv.conf, reloads what changed, and is idempotent', async () => {
  const root = guest('debian-run', DEBIAN);
  const bin = stubs('debian-run', { ifup: 0, ifdown: 0, ip: 0 });
  const ctx = testContext(root, metadata([NIC0, NIC1]), { path: bin.path });
  const first = await configureNetwork(ctx);
  assert.equal(first.problems, []);
  assert.is(first.renderer, 'ifupdown');
  assert.equal(first.written, ['/etc/network/interfaces.d/50-sdc-eth0', '/etc/network/interfaces.d/50-sdc-eth1', '/etc/resolv.conf']);
  assert.match(readFileSync(join(root, 'etc/network/interfaces.d/50-sdc-eth0'), 'utf8'), 'gateway 10.88.88.1');
  assert.match(readFileSync(join(root, 'etc/resolv.conf'), 'utf8'), 'search example.com\nnameserver 8.8.8.8\n');
  assert.equal(bin.calls(), ['ifdown --force eth0', 'ip addr flush dev eth0 scope global', 'ifup eth0', 'ifdown --force eth1', 'ip addr flush dev eth1 scope global', 'ifup eth1']);

  const again = await configureNetwork(testContext(root, metadata([NIC0, NIC1]), { path: bin.path }));
  assert.equal([again.written, again.removed, again.problems], [[], [], []]);
  assert.is(bin.calls().length, 6, 'nothing reloaded when nothing changed');

  const changed = await configureNetwork(testContext(root, metadata([NIC0, { ...NIC1, mtu: 9000 }]), { path: bin.path }));
  assert.equal(changed.written, ['/etc/network/interfaces.d/50-sdc-eth1']);
  assert.equal(bin.calls().slice(6), ['ifdown --force eth1', 'ip addr flush dev eth1 scope global', 'ifup eth1']);
});

test('files we did not write, or that were edited, are left alone without --force; a plain resolv.conf nobody manages is replaced', async () => {
  const root = guest('foreign', { ...DEBIAN, '/etc/resolv.conf': 'nameserver 1.1.1.1\n' });
  const bin = stubs('foreign', { ifup: 0, ifdown: 0, ip: 0 });
  put(root, '/etc/network/interfaces.d/50-sdc-eth0', 'auto eth0\niface eth0 inet dhcp\n');
  const ctx = testContext(root, metadata([NIC0]), { path: bin.path });
  const result = await configureNetwork(ctx);
  assert.equal(result.problems, ['/etc/network/interfaces.d/50-sdc-eth0 was not written by configure-network; left alone (--force replaces it)']);
  assert.equal(result.written, ['/etc/resolv.conf']);
  assert.is(ownership(readFileSync(join(root, 'etc/resolv.conf'), 'utf8')), 'ours');
  assert.ok(ctx.lines.includes('info: /etc/resolv.conf was not written by configure-network; replaced, as nothing else manages it'));
  assert.equal(bin.calls(), []);

  const forced = await configureNetwork(testContext(root, metadata([NIC0]), { path: bin.path }), { force: true });
  assert.equal(forced.written, ['/etc/network/interfaces.d/50-sdc-eth0']);

  writeFileSync(join(root, 'etc/resolv.conf'), `${readFileSync(join(root, 'etc/resolv.conf'), 'utf8')}options rotate\n`);
  const edited = await configureNetwork(testContext(root, metadata([NIC0], ['9.9.9.9']), { path: bin.path }));
  assert.equal(edited.problems, ['/etc/resolv.conf was edited since configure-network wrote it; left alone (--force replaces it)']);
  assert.match(readFileSync(join(root, 'etc/resolv.conf'), 'utf8'), 'options rotate');
});

test('interfaces that does not read interfaces.d: nothing written, unless --force adds the source line', async () => {
  const root = guest('no-source', { '/usr/sbin/ifup': '', '/etc/network/interfaces': 'auto lo\niface lo inet loopback' });
  const bin = stubs('no-source', { ifup: 0, ifdown: 0, ip: 0 });
  const refused = await configureNetwork(testContext(root, metadata([NIC0], null), { path: bin.path }));
  assert.equal(refused.written, []);
  assert.match(refused.problems.join('\n'), '/etc/network/interfaces does not read /etc/network/interfaces.d; nothing written');
  assert.not.ok(existsSync(join(root, 'etc/network/interfaces.d')));

  const forced = await configureNetwork(testContext(root, metadata([NIC0], null), { path: bin.path }), { force: true });
  assert.equal(forced.written, ['/etc/network/interfaces.d/50-sdc-eth0', '/etc/network/interfaces']);
  assert.is(readFileSync(join(root, 'etc/network/interfaces'), 'utf8'), 'auto lo\niface lo inet loopback\n# Added by sdc-vm-tools configure-network\nsource /etc/network/interfaces.d/*\n');
});

test('an interface that the image already defines is reported as a double definition', async () => {
  const root = guest('double', { ...DEBIAN, '/etc/network/interfaces.d/50-cloud-init': 'auto eth0\niface eth0 inet dhcp\n' });
  const result = await configureNetwork(testContext(root, metadata([NIC0], null)), { apply: false });
  assert.equal(result.problems, ['/etc/network/interfaces.d/50-cloud-init also defines eth0; both definitions apply: remove one']);
  assert.equal(result.written, ['/etc/network/interfaces.d/50-sdc-eth0']);
});

test('files of NICs that are gone are removed; edited ones are kept', async () => {
  const root = guest('stale', { '/usr/lib/systemd/systemd-networkd': '', '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service': '' });
  const bin = stubs('stale', { networkctl: 0 });
  await configureNetwork(testContext(root, metadata([NIC0, NIC1], null), { path: bin.path }));
  const shrunk = await configureNetwork(testContext(root, metadata([NIC0], null), { path: bin.path }));
  assert.equal(shrunk.removed, ['/etc/systemd/network/10-sdc-eth1.network']);
  assert.equal(bin.calls(), ['networkctl reload', 'networkctl reconfigure eth0 eth1', 'networkctl reload']);

  await configureNetwork(testContext(root, metadata([NIC0, NIC1], null), { path: bin.path }));
  writeFileSync(join(root, 'etc/systemd/network/10-sdc-eth1.network'), '# mine\n', { flag: 'a' });
  const kept = await configureNetwork(testContext(root, metadata([NIC0], null), { path: bin.path }));
  assert.equal(kept.removed, []);
  assert.ok(existsSync(join(root, 'etc/systemd/network/10-sdc-eth1.network')));
});

test('NetworkManager keyfiles are 0600; resolv.conf is left to NetworkManager', async () => {
  const root = guest('nm', { '/usr/sbin/NetworkManager': '', '/etc/systemd/system/multi-user.target.wants/NetworkManager.service': '' });
  const result = await configureNetwork(testContext(root, metadata([NIC0])), { apply: false });
  assert.equal(result.written, ['/etc/NetworkManager/system-connections/sdc-eth0.nmconnection']);
  assert.is(statSync(join(root, result.written[0])).mode & 0o777, 0o600);
});

test('dry run and --no-apply: nothing written or run', async () => {
  const root = guest('dry', DEBIAN);
  const bin = stubs('dry', { ifup: 0, ifdown: 0, ip: 0 });
  const ctx = testContext(root, metadata([NIC0]), { path: bin.path, dryRun: true });
  const dry = await configureNetwork(ctx);
  assert.equal(dry.written, ['/etc/network/interfaces.d/50-sdc-eth0', '/etc/resolv.conf']);
  assert.not.ok(existsSync(join(root, 'etc/network/interfaces.d/50-sdc-eth0')));
  assert.match(ctx.printed.join(''), /^would write \/etc\/resolv.conf mode 0644\n--- \/dev\/null\n\+\+\+ \/etc\/resolv.conf\n/m);
  const noApply = await configureNetwork(testContext(root, metadata([NIC0]), { path: bin.path }), { apply: false });
  assert.is(noApply.written.length, 2);
  assert.equal(bin.calls(), []);
});

test('--renderer overrides detection; a missing reload command is reported', async () => {
  const root = guest('override', DEBIAN);
  const result = await configureNetwork(testContext(root, metadata([NIC0], null)), { renderer: 'netplan' });
  assert.equal(result.written, ['/etc/netplan/50-sdc-vm-tools.yaml']);
  assert.equal(result.problems, ['cannot reload netplan: netplan not found; the files take effect at the next boot']);
});

test('a failing reload is reported with its error', async () => {
  const root = guest('fail', DEBIAN);
  const bin = stubs('fail', { ifup: 1, ifdown: 1, ip: 0 });
  const result = await configureNetwork(testContext(root, metadata([NIC0], null), { path: bin.path }));
  assert.equal(result.problems, ['ifup eth0 failed (exit 1): ']);
});

test('unusable sdc:nics, unknown MACs, no stack: reported, nothing written', async () => {
  const root = guest('bad', DEBIAN);
  const bad = await configureNetwork(testContext(root, { 'sdc:nics': '[{"mac":' }));
  assert.equal(bad.problems, ['sdc:nics: not valid JSON', 'sdc:nics is unusable; the network configuration is left as it is']);
  const unknown = await configureNetwork(testContext(root, metadata([{ ...NIC0, mac: '90:b8:d0:00:00:77' }])));
  assert.equal(unknown.problems.slice(-1), ['no interface to configure; nothing written']);
  const none = await configureNetwork(testContext(guest('nostack', {}), metadata([NIC0])));
  assert.match(none.problems.join('\n'), 'no known network stack found');
  assert.not.ok(existsSync(join(root, 'etc/network/interfaces.d')));
});

test('a symlinked resolv.conf belongs to its manager (resolved, resolvconf, netconfig)', async () => {
  const root = guest('resolved', { '/usr/lib/systemd/systemd-networkd': '', '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service': '' });
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(root, 'etc/resolv.conf'));
  const result = await configureNetwork(testContext(root, metadata([NIC0])), { apply: false });
  assert.equal(result.written, ['/etc/systemd/network/10-sdc-eth0.network']);
  assert.match(readFileSync(join(root, result.written[0]), 'utf8'), 'DNS=8.8.8.8\nDomains=example.com\n');
});

test.run();
