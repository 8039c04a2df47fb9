// What `sdc:nics`, `sdc:routes`, `sdc:resolvers` and `sdc:dns_domain` must look like inside a
// guest, from what the boot-report step saved (`ip -j`, resolv.conf, resolvectl).
import * as assert from 'uvu/assert';
import type { Scenario } from './scenario';

interface IpInterface {
  ifname: string;
  address: string;
  mtu: number;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

interface NetworkVm {
  nics: { mac: string; ips: string[]; gateways?: string[]; mtu?: number }[];
  routes: Record<string, string>;
  resolvers: string[];
  dns_domain: string;
}

/** The guest's interface with this MAC, from `ip -j addr`. */
async function interfaceWithMac(sc: Scenario, boot: number, mac: string): Promise<IpInterface> {
  const all: IpInterface[] = await sc.savedJson(boot, 'addresses');
  const found = all.find((i) => i.address === mac);
  if (!found) throw new Error(`no interface with MAC ${mac}: ${all.map((i) => `${i.ifname}=${i.address}`).join(' ')}`);
  return found;
}

function globalAddresses(i: IpInterface): string[] {
  return i.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`).sort();
}

/**
 * Every NIC's static addresses on the interface with its MAC, its mtu, the primary NIC's gateway
 * as the default route, the routes, and the resolvers and search domain where the stack keeps
 * them (resolv.conf, or systemd-resolved when resolv.conf is its stub).
 */
export async function assertNetworkApplied(sc: Scenario, boot: number, vm: NetworkVm): Promise<void> {
  const interfaces = new Map<string, IpInterface>();
  for (const nic of vm.nics) {
    const i = await interfaceWithMac(sc, boot, nic.mac);
    interfaces.set(nic.mac, i);
    assert.equal(globalAddresses(i), [...nic.ips].sort(), `addresses on ${i.ifname} (${nic.mac})`);
    if (nic.mtu) assert.is(i.mtu, nic.mtu, `mtu of ${i.ifname}`);
  }
  const routes: { dst: string; gateway?: string; dev: string }[] = await sc.savedJson(boot, 'routes');
  const shown = JSON.stringify(routes);
  for (const nic of vm.nics.filter((n) => n.gateways?.length)) {
    const dev = interfaces.get(nic.mac)!.ifname;
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === nic.gateways![0] && r.dev === dev), `default via ${nic.gateways![0]} dev ${dev}: ${shown}`);
  }
  for (const [dst, gateway] of Object.entries(vm.routes)) {
    assert.ok(routes.some((r) => r.dst === dst && r.gateway === gateway), `${dst} via ${gateway}: ${shown}`);
  }
  const resolvConf = await sc.saved(boot, 'resolv-conf');
  const stub = /^nameserver 127\.0\.0\.53$/m.test(resolvConf);
  const resolvers = stub ? await sc.saved(boot, 'resolvectl') : resolvConf;
  for (const r of vm.resolvers) assert.ok(resolvers.includes(r), `resolver ${r} in ${stub ? 'resolvectl status' : 'resolv.conf'}:\n${resolvers}`);
  assert.ok(resolvers.includes(vm.dns_domain), `search domain ${vm.dns_domain}:\n${resolvers}`);
  if (!stub) assert.equal(resolvConf.match(/^nameserver\s+\S+/gm)?.map((l) => l.split(/\s+/)[1]), vm.resolvers);
}
