import { basename } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NetworkPlan } from '../../lib/network/links';
import { loadCases, planOf, renderOutput } from '../support/network-cases';
import { readIfcfgRh, readIfcfgSuse, readInterfaces, readKeyfiles, readNetworkd, readResolvConf, viewOfPlan, type DnsView, type NicView } from '../support/network-readers';

// model -> renderer -> an independent reader -> the same addresses, gateways, routes, MTU and
// dynamic settings, for every fixture. (netplan goes through the real `netplan generate` in the
// integration tier.) Where a format cannot say something, the expectation says so explicitly.

const texts = (plan: NetworkPlan, name: Parameters<typeof renderOutput>[0]) => renderOutput(name, plan).map((f) => f.content);
const byBase = (plan: NetworkPlan, name: Parameters<typeof renderOutput>[0]) => new Map(renderOutput(name, plan).map((f) => [basename(f.path), f.content]));

/** NetworkManager keeps resolvers per family, in a section that configures that family. */
function keyfileDns(plan: NetworkPlan): DnsView | null {
  if (!plan.dns) return null;
  const carried = (v6: boolean) => plan.interfaces.some((n) => (v6 ? n.addrconf : n.dhcp4) || n.addresses.some((a) => (a.family === 6) === v6));
  const servers = plan.dns.servers.filter((s) => carried(s.includes(':')));
  return servers.length > 0 ? { servers: servers.sort(), search: plan.dns.search } : null;
}

/** wicked says nothing about SLAAC unless it is the only method (BOOTPROTO auto6): the kernel's RA setting decides. */
const suseView = (nics: NicView[]) => nics.map((n) => ({ ...n, addrconf: n.addrconf && !n.dhcp4 && n.addresses.length === 0 }));

for (const c of loadCases()) {
  const { plan } = planOf(c);
  test(`${c.name}: networkd round trip`, () => {
    const view = readNetworkd(texts(plan, 'networkd'));
    assert.equal(view.nics, viewOfPlan(plan, true));
    assert.equal(view.dns, plan.dns);
  });
  test(`${c.name}: NetworkManager round trip`, () => {
    const view = readKeyfiles(texts(plan, 'networkmanager'));
    assert.equal(view.nics, viewOfPlan(plan, true));
    assert.equal(view.dns && { ...view.dns, servers: [...view.dns.servers].sort() }, keyfileDns(plan));
  });
  test(`${c.name}: ifupdown round trip`, () => {
    const view = readInterfaces(texts(plan, 'ifupdown'));
    assert.equal(view.nics, viewOfPlan(plan, false));
    assert.equal(view.dns, plan.dns);
  });
  test(`${c.name}: ifcfg (Red Hat) round trip`, () => {
    const view = readIfcfgRh(byBase(plan, 'ifcfg-rh'));
    assert.equal(view.nics, viewOfPlan(plan, false));
    assert.equal(view.dns, plan.dns);
  });
  test(`${c.name}: ifcfg (SUSE) round trip`, () => {
    const view = readIfcfgSuse(byBase(plan, 'ifcfg-suse'));
    assert.equal(view.nics, suseView(viewOfPlan(plan, false)));
    assert.is(view.dns, null);
  });
  test(`${c.name}: resolv.conf round trip`, () => {
    const [text] = texts(plan, 'resolv-conf');
    assert.equal(text === undefined ? null : readResolvConf(text), plan.dns);
  });
}

test.run();
