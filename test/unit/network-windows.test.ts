// The network model on Windows: every fixture bound by MAC to fresh adapters, against reviewed
// scripts in test/fixtures/network/golden/CASE/windows/ (UPDATE_GOLDEN=1 rewrites them); then the
// adapters as Windows would report them afterwards, which must need no change; and the
// differences one at a time.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cidrText } from '../../lib/network/ip';
import type { NetworkPlan } from '../../lib/network/links';
import { parseNetwork } from '../../lib/network/model';
import { adaptersFromQuery, bindToAdapters, networkScript, planAdapterChanges, type WindowsAdapter } from '../../lib/network/windows';
import { freshAdapters, loadCases, NETWORK_FIXTURES } from '../support/network-cases';

const GOLDEN = join(NETWORK_FIXTURES, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

/** What Windows reports once the plan is in place: its spelling (on-link next hops, zone ids, its IPv6 DNS defaults). */
function appliedAdapters(plan: NetworkPlan, adapters: WindowsAdapter[]): WindowsAdapter[] {
  const dnsNic = plan.interfaces.find((i) => i.primary) ?? plan.interfaces[0];
  return adapters.map((a) => {
    const nic = plan.interfaces.find((i) => i.name === a.name);
    if (!nic) return a;
    const routes = [
      ...(nic.gateway4 ? [{ dst: '0.0.0.0/0', via: nic.gateway4 }] : []),
      ...(nic.gateway6 ? [{ dst: '::/0', via: nic.gateway6 }] : []),
      ...nic.routes.map((r) => ({ dst: cidrText(r.dst), via: r.via ?? (r.dst.family === 4 ? '0.0.0.0' : '::') })),
    ];
    const servers = nic === dnsNic && plan.dns ? plan.dns.servers : a.dns;
    return {
      ...a,
      dhcp4: nic.dhcp4,
      routerDiscovery: nic.addrconf,
      mtu4: nic.mtu ?? a.mtu4,
      mtu6: nic.mtu !== null && nic.mtu >= 1280 ? nic.mtu : a.mtu6,
      addresses: nic.addresses.map((c) => (c.address.startsWith('fe80:') ? `${c.address}%${a.index}/${c.prefix}` : cidrText(c))),
      routes,
      dns: servers.some((s) => s.includes(':')) ? servers : [...servers, 'fec0:0:0:ffff::1%1'],
      suffix: nic === dnsNic && plan.dns?.search[0] ? plan.dns.search[0].toUpperCase() : a.suffix,
    };
  });
}

for (const c of loadCases()) {
  const parsed = parseNetwork(c.metadata);
  const adapters = freshAdapters(c);
  const bound = bindToAdapters(parsed.model!, adapters);

  test(`${c.name}: the script for fresh adapters`, () => {
    const path = join(GOLDEN, c.name, 'windows', 'configure-network.ps1');
    const script = networkScript(planAdapterChanges(bound.plan, adapters));
    if (update) {
      rmSync(dirname(path), { recursive: true, force: true });
      if (script !== null) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, script);
      }
    }
    if (script === null) assert.not.ok(existsSync(path), 'no script expected');
    else assert.fixture(script, readFileSync(path, 'utf8'));
  });

  test(`${c.name}: once applied, nothing differs`, () => {
    assert.is(networkScript(planAdapterChanges(bound.plan, appliedAdapters(bound.plan, adapters))), null);
  });
}

const NICS = JSON.stringify([{ mac: '90:b8:d0:00:00:01', ips: ['10.0.0.5/24', '2001:db8::5/64'], gateways: ['10.0.0.1'], primary: true, mtu: 1200 }]);
const base: WindowsAdapter = {
  mac: '90-B8-D0-00-00-01',
  index: 7,
  name: 'Ethernet',
  hardware: true,
  dhcp4: false,
  routerDiscovery: false,
  mtu4: 1200,
  mtu6: 1500,
  addresses: ['10.0.0.5/24', '2001:DB8:0:0::5/64'],
  routes: [{ dst: '0.0.0.0/0', via: '10.0.0.1' }],
  dns: ['8.8.8.8', 'fec0:0:0:ffff::1%1'],
  suffix: 'Example.COM',
};
const planFor = (adapters: WindowsAdapter[], resolvers = '["8.8.8.8"]') => {
  const bound = bindToAdapters(parseNetwork({ nics: NICS, routes: null, resolvers, dnsDomain: 'example.com' }).model!, adapters);
  return { problems: bound.problems, lines: planAdapterChanges(bound.plan, adapters).flatMap((c) => c.lines) };
};

test('an adapter as configured needs nothing: addresses, routes, DNS and suffix compared as Windows spells them', () => {
  assert.equal(planFor([base]).lines, []);
  // An MTU below 1280 is for IPv4 only: IPv6 keeps its own.
  assert.equal(planFor([{ ...base, mtu6: 1280 }]).lines, []);
});

test('only what differs changes: an old address and route go, the missing ones come, DNS only when it differs', () => {
  const drifted = { ...base, addresses: ['10.0.0.5/16', '10.0.0.99/24', '2001:db8::5/64'], routes: [{ dst: '0.0.0.0/0', via: '10.0.0.254' }, { dst: '10.9.0.0/16', via: '10.0.0.1' }], dns: ['1.1.1.1'] };
  assert.equal(planFor([drifted]).lines, [
    "Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -NextHop '10.0.0.254' -Confirm:$false",
    "Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '10.9.0.0/16' -NextHop '10.0.0.1' -Confirm:$false",
    "Remove-NetIPAddress -InterfaceIndex $i -IPAddress '10.0.0.5' -Confirm:$false",
    "Remove-NetIPAddress -InterfaceIndex $i -IPAddress '10.0.0.99' -Confirm:$false",
    "New-NetIPAddress -InterfaceIndex $i -IPAddress '10.0.0.5' -PrefixLength 24 | Out-Null",
    "New-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -NextHop '10.0.0.1' | Out-Null",
    "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses @('8.8.8.8')",
  ]);
  assert.equal(planFor([{ ...base, dhcp4: true, mtu4: 1500, suffix: '' }]).lines, [
    'Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
    'Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -NlMtuBytes 1200',
    "Set-DnsClient -InterfaceIndex $i -ConnectionSpecificSuffix 'example.com'",
  ]);
  // No resolvers in the metadata: the DNS settings are left as they are.
  assert.equal(planFor([{ ...base, dns: ['1.1.1.1'] }], '[]').lines, []);
});

test('adapters are matched by MAC: a hardware adapter wins over a virtual one with the same MAC; a missing one is reported', () => {
  const virtual = { ...base, index: 9, name: 'vEthernet (sw)', hardware: false, addresses: [] };
  const bound = bindToAdapters(parseNetwork({ nics: NICS, routes: null, resolvers: null, dnsDomain: null }).model!, [virtual, base]);
  assert.is(bound.plan.interfaces[0].name, 'Ethernet');
  assert.equal(planFor([{ ...base, mac: '90-B8-D0-00-00-02' }]).problems, ['sdc:nics[0]: no interface has MAC 90:b8:d0:00:00:01; NIC not configured']);
});

test("the query's JSON: one adapter or a list, odd entries dropped, PowerShell's single values as lists", () => {
  const one = { mac: '90-B8-D0-00-00-01', index: 7, name: 'Ethernet', hardware: true, dhcp4: true, routerDiscovery: true, mtu4: 1500, mtu6: 1500, addresses: '10.0.0.5/24', routes: { dst: '0.0.0.0/0', via: '10.0.0.1' }, dns: null, suffix: '' };
  const [a] = adaptersFromQuery(one);
  assert.equal(a.addresses, ['10.0.0.5/24']);
  assert.equal(a.routes, [{ dst: '0.0.0.0/0', via: '10.0.0.1' }]);
  assert.equal(a.dns, []);
  assert.is(adaptersFromQuery([one, { ...one, mac: 'nonsense' }, { ...one, index: 0 }, 'x', null]).length, 1);
  assert.equal(adaptersFromQuery(null), []);
});

test.run();
