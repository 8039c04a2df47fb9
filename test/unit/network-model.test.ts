import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import { GuestFiles } from '../../lib/guest/files';
import * as assert from 'uvu/assert';
import { contains, isNetwork, netmaskPrefix, parseAddress, parseCidr } from '../../lib/network/ip';
import { bindNetwork, readLinks } from '../../lib/network/links';
import { ownership, withMarker } from '../../lib/network/marker';
import { parseNetwork, type NetworkMetadata, type Nic } from '../../lib/network/model';
import { sources } from '../../lib/network/renderers/ifupdown';

// The model's semantics. Tests 46-55 of cloud-init's SmartOS conversion are reproduced where they
// are right; where cloud-init is wrong (addrconf as an address, routes on every subnet, linklocal
// ignored), the test says what we do instead.

const meta = (nics: unknown, more: Partial<NetworkMetadata> = {}): NetworkMetadata => ({ nics: JSON.stringify(nics), routes: null, resolvers: null, dnsDomain: null, ...more });
const nicsOf = (m: NetworkMetadata): Nic[] => {
  const parsed = parseNetwork(m);
  assert.ok(parsed.model?.nics, `a model: ${parsed.problems.join('; ')}`);
  return parsed.model!.nics!;
};

const TWO_NICS = [
  { mac: '90:b8:d0:f5:e4:f5', interface: 'net0', ips: ['8.12.42.102/24'], gateways: ['8.12.42.1'], primary: true, mtu: 1500 },
  { mac: '90:b8:d0:a5:ff:cd', interface: 'net1', ips: ['192.168.128.93/22'], gateways: ['192.168.128.1'], primary: false, mtu: 8500 },
];

test('46/47/53: only the primary NIC gets its gateway; mtu and MAC are kept', () => {
  const [a, b] = nicsOf(meta(TWO_NICS));
  assert.equal([a.mac, a.mtu, a.gateway4, a.primary], ['90:b8:d0:f5:e4:f5', 1500, '8.12.42.1', true]);
  assert.equal([b.mac, b.mtu, b.gateway4, b.primary], ['90:b8:d0:a5:ff:cd', 8500, null, false]);
});

test('48: dhcp is DHCPv4 and no address', () => {
  const [n] = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', ips: ['dhcp'] }]));
  assert.equal([n.dhcp4, n.addrconf, n.addresses], [true, false, []]);
});

test('49/52: several addresses; the first gateway of each family, once', () => {
  const [n] = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', primary: true, ips: ['2001:4800:78ff:1b:be76:4eff:fe06:96b3/64', '8.12.42.26/24', '2001:4800:78ff:1b::1/64', '8.12.42.27/24'], gateways: ['2001:4800:78ff:1b::1', '8.12.42.1', '8.12.42.2'] }]));
  assert.is(n.addresses.length, 4);
  assert.equal([n.gateway4, n.gateway6], ['8.12.42.1', '2001:4800:78ff:1b::1']);
});

test('50: resolvers and the DNS domain make the search list', () => {
  const parsed = parseNetwork(meta(TWO_NICS, { resolvers: '["8.8.8.8","8.8.8.1"]', dnsDomain: 'example.com' }));
  assert.equal(parsed.model!.dns, { servers: ['8.8.8.8', '8.8.8.1'], search: ['example.com'] });
});

test('51: IPv6 with only IPv4 gateways: no IPv6 gateway', () => {
  const [n] = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', primary: true, ips: ['8.12.42.26/24', '2001:db8::26/64'], gateways: ['8.12.42.1'] }]));
  assert.equal([n.gateway4, n.gateway6], ['8.12.42.1', null]);
});

test('54 (cloud-init differs): a route goes on the NIC whose network holds its gateway, not on every subnet', () => {
  const routes = JSON.stringify([{ linklocal: false, dst: '10.0.0.0/8', gateway: '192.168.128.1' }]);
  const [a, b] = nicsOf(meta(TWO_NICS, { routes }));
  assert.equal(a.routes, []);
  assert.equal(b.routes, [{ dst: { address: '10.0.0.0', prefix: 8, family: 4 }, via: '192.168.128.1' }]);
});

test('55 (cloud-init differs, and was once worse): addrconf is SLAAC, never an address', () => {
  const [n] = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', ips: ['2001:db8::5/64', 'addrconf'] }]));
  assert.equal([n.addrconf, n.dhcp4, n.addresses.map((a) => a.address)], [true, false, ['2001:db8::5']]);
});

test('linklocal routes are on-link routes on the NIC that owns the gateway address', () => {
  const routes = JSON.stringify([{ linklocal: true, dst: '10.3.0.1', gateway: '192.168.128.93' }]);
  const [, b] = nicsOf(meta(TWO_NICS, { routes }));
  assert.equal(b.routes, [{ dst: { address: '10.3.0.1', prefix: 32, family: 4 }, via: null }]);
});

test('a route whose gateway is in no static network goes on a DHCP NIC, the primary first', () => {
  const routes = JSON.stringify([{ linklocal: false, dst: '10.0.0.0/8', gateway: '172.20.0.1' }]);
  const [a, b] = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', ips: ['dhcp'] }, { mac: '90:b8:d0:00:00:02', ips: ['dhcp'], primary: true }], { routes }));
  assert.equal([a.routes.length, b.routes.length], [0, 1]);
});

test('primary: a single NIC is primary; with none marked, the first with a gateway', () => {
  assert.ok(nicsOf(meta([{ mac: '90:b8:d0:00:00:01', ips: ['10.0.0.5/24'], gateways: ['10.0.0.1'] }]))[0].gateway4);
  const nics = nicsOf(meta([{ mac: '90:b8:d0:00:00:01', ips: ['10.1.0.5/24'] }, { mac: '90:b8:d0:00:00:02', ips: ['10.0.0.5/24'], gateways: ['10.0.0.1'] }]));
  assert.equal(nics.map((n) => [n.primary, n.gateway4]), [[false, null], [true, '10.0.0.1']]);
});

test('a gateway outside the NIC networks is reported, not configured', () => {
  const parsed = parseNetwork(meta([{ mac: '90:b8:d0:00:00:01', interface: 'net0', ips: ['10.0.0.5/24'], gateways: ['10.9.0.1'] }]));
  assert.is(parsed.model!.nics![0].gateway4, null);
  assert.equal(parsed.problems, ["sdc:nics[0] (net0) gateways: 10.9.0.1 is outside the NIC's networks (10.0.0.5/24); ignored"]);
});

test('legacy ip/netmask/gateway, and MACs in any notation', () => {
  const [n] = nicsOf(meta([{ mac: '90B8D0000001', ip: '10.0.0.5', netmask: '255.255.254.0', gateway: '10.0.0.1' }]));
  assert.equal([n.mac, n.addresses, n.gateway4], ['90:b8:d0:00:00:01', [{ address: '10.0.0.5', prefix: 23, family: 4 }], '10.0.0.1']);
});

test('unusable sdc:nics gives no model at all, so nothing is written', () => {
  for (const nics of ['{"mac":', '{"a":1}', '"x"']) {
    const parsed = parseNetwork({ nics, routes: null, resolvers: null, dnsDomain: null });
    assert.is(parsed.model, null);
    assert.is(parsed.problems.length, 1, nics);
  }
});

test('no sdc:nics: DHCP on every physical interface, resolvers kept', () => {
  const parsed = parseNetwork({ nics: null, routes: null, resolvers: '["8.8.8.8"]', dnsDomain: null });
  const { plan } = bindNetwork(parsed.model!, [
    { name: 'eth1', mac: '90:b8:d0:00:00:02', physical: true },
    { name: 'br0', mac: '90:b8:d0:00:00:03', physical: false },
  ]);
  assert.equal(plan.interfaces.map((i) => [i.name, i.dhcp4, i.primary]), [['eth1', true, true]]);
  assert.equal(plan.dns, { servers: ['8.8.8.8'], search: [] });
});

test('binding: kernel names by MAC; a missing MAC is reported, not invented', () => {
  const parsed = parseNetwork(meta([{ mac: '90:b8:d0:00:00:01', interface: 'net0', ips: ['dhcp'] }, { mac: '90:b8:d0:00:00:09', interface: 'net1', ips: ['dhcp'] }]));
  const { plan, problems } = bindNetwork(parsed.model!, [{ name: 'ens3', mac: '90:b8:d0:00:00:01', physical: true }]);
  assert.equal(plan.interfaces.map((i) => i.name), ['ens3']);
  assert.equal(problems, ['sdc:nics[1] (net1): no interface has MAC 90:b8:d0:00:00:09; NIC not configured']);
});

test('readLinks: names, MACs and physical from <root>/sys/class/net', async () => {
  const root = mkdtempSync(join(tmpdir(), 'links-'));
  try {
    const devices = join(root, 'sys/devices');
    const add = (name: string, mac: string, physical: boolean) => {
      const dir = join(devices, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'address'), `${mac}\n`);
      if (physical) mkdirSync(join(dir, 'device'));
      mkdirSync(join(root, 'sys/class/net'), { recursive: true });
      symlinkSync(`../../devices/${name}`, join(root, 'sys/class/net', name)); // relative, as sysfs makes them
    };
    add('lo', '00:00:00:00:00:00', false);
    add('ens3', '90:B8:D0:00:00:01', true);
    add('virbr0', '52:54:00:00:00:01', false);
    const files = (r: string) => new GuestFiles({ root: r, dryRun: false, log: { info() {}, warn() {}, error() {} }, print: () => undefined });
    assert.equal(await readLinks(files(root)), [
      { name: 'ens3', mac: '90:b8:d0:00:00:01', physical: true },
      { name: 'virbr0', mac: '52:54:00:00:00:01', physical: false },
    ]);
    assert.equal(await readLinks(files(join(root, 'nowhere'))), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('addresses: canonical forms, prefixes, containment', () => {
  assert.equal(parseAddress('2001:DB8:0:0::1'), { address: '2001:db8::1', family: 6 });
  assert.is(parseAddress('fe80::1%eth0'), null);
  assert.is(parseAddress('010.0.0.1'), null);
  assert.is(parseCidr('10.0.0.1/33'), null);
  assert.is(parseCidr('10.0.0.1'), null);
  assert.equal(parseCidr('10.0.0.1', true), { address: '10.0.0.1', prefix: 32, family: 4 });
  assert.equal([netmaskPrefix('255.255.255.0'), netmaskPrefix('255.0.255.0'), netmaskPrefix('0.0.0.0'), netmaskPrefix('255.255.255.255')], [24, null, 0, 32]);
  assert.ok(contains(parseCidr('2001:db8::5/64')!, '2001:db8::ffff', 6));
  assert.not.ok(contains(parseCidr('2001:db8::5/64')!, '2001:db8:1::1', 6));
  assert.ok(contains(parseCidr('::ffff:10.0.0.0/120')!, '::ffff:10.0.0.9', 6));
  assert.equal([isNetwork(parseCidr('10.2.2.0/24')!), isNetwork(parseCidr('10.2.2.1/24')!)], [true, false]);
});

test('ownership marker: ours, edited, foreign', () => {
  const text = withMarker('auto eth0\n');
  assert.is(ownership(text), 'ours');
  assert.is(ownership(`${text}# mine\n`), 'edited');
  assert.is(ownership('auto eth0\n'), 'foreign');
  assert.is(ownership(text.split('\n').slice(1).join('\n')), 'foreign');
});

test('ifupdown: which interfaces files read our folder', () => {
  const path = '/etc/network/interfaces.d/50-sdc-eth0';
  assert.ok(sources('source /etc/network/interfaces.d/*\n', path));
  assert.ok(sources('source interfaces.d/*\n', path));
  assert.ok(sources('  source-directory /etc/network/interfaces.d/\n', path));
  assert.ok(sources('source /etc/network/interfaces.d/50-*\n', path));
  assert.not.ok(sources('source /etc/network/interfaces.d/*.cfg\n', path));
  assert.not.ok(sources('# source /etc/network/interfaces.d/*\nauto lo\n', path));
});

test.run();
