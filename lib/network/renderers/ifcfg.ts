import { cidrText, type Family } from '../ip';
import { dnsInterface, type BoundNic, type NetworkPlan } from '../links';
import { addressesOf, ipRouteArgs, ownedFile, routesOf, safeName, type OwnedFiles, type RenderedFile } from './files';

/**
 * ifcfg files, in the two dialects that share the name:
 * - Red Hat (network-scripts, and NetworkManager's ifcfg-rh plugin): `ifcfg-NAME` with HWADDR,
 *   numbered IPADDRn/PREFIXn, IPV6ADDR plus IPV6ADDR_SECONDARIES, DNSn and DOMAIN; routes in
 *   `route-NAME` and `route6-NAME`, one `ip route` argument list a line.
 * - SUSE (wicked): `ifcfg-NAME` with IPADDR_n in CIDR form; every route, default ones too, in
 *   `ifroute-NAME` as `destination gateway netmask interface`. SUSE keeps resolvers in its global
 *   netconfig settings, so the resolvers are not in these files.
 * Values are validated addresses and numbers, single-quoted anyway.
 */

type IfcfgDialect = 'rh' | 'suse';

const DIRS: Record<IfcfgDialect, string> = { rh: '/etc/sysconfig/network-scripts', suse: '/etc/sysconfig/network' };
export const OWNED: Record<IfcfgDialect, OwnedFiles> = {
  rh: { dir: DIRS.rh, name: /^(ifcfg|route|route6)-[A-Za-z0-9_-]+$/ },
  suse: { dir: DIRS.suse, name: /^(ifcfg|ifroute)-[A-Za-z0-9_-]+$/ },
};

const vars = (pairs: [string, string | number][]) => pairs.map(([k, v]) => `${k}='${v}'\n`).join('');

function renderRh(nic: BoundNic, withDns: boolean, plan: NetworkPlan): RenderedFile[] {
  const name = safeName(nic.name);
  const pairs: [string, string | number][] = [['DEVICE', nic.name], ['HWADDR', nic.mac], ['TYPE', 'Ethernet'], ['ONBOOT', 'yes'], ['BOOTPROTO', nic.dhcp4 ? 'dhcp' : 'none']];
  addressesOf(nic, 4).forEach((a, i) => pairs.push([`IPADDR${i}`, a.address], [`PREFIX${i}`, a.prefix]));
  if (nic.gateway4) pairs.push(['GATEWAY', nic.gateway4]);
  if (nic.mtu !== null) pairs.push(['MTU', nic.mtu]);
  const v6 = addressesOf(nic, 6);
  pairs.push(['IPV6INIT', v6.length > 0 || nic.addrconf ? 'yes' : 'no']);
  if (v6.length > 0 || nic.addrconf) pairs.push(['IPV6_AUTOCONF', nic.addrconf ? 'yes' : 'no']);
  if (v6.length > 0) pairs.push(['IPV6ADDR', cidrText(v6[0])]);
  if (v6.length > 1) pairs.push(['IPV6ADDR_SECONDARIES', v6.slice(1).map(cidrText).join(' ')]);
  if (nic.gateway6) pairs.push(['IPV6_DEFAULTGW', nic.gateway6]);
  if (withDns && plan.dns) {
    plan.dns.servers.forEach((s, i) => pairs.push([`DNS${i + 1}`, s]));
    if (plan.dns.search.length > 0) pairs.push(['DOMAIN', plan.dns.search.join(' ')]);
  }
  const files = [ownedFile(`${DIRS.rh}/ifcfg-${name}`, vars(pairs), 0o644, nic.name)];
  for (const [family, prefix] of [[4, 'route'], [6, 'route6']] as [Family, string][]) {
    const routes = routesOf(nic, family);
    if (routes.length > 0) files.push(ownedFile(`${DIRS.rh}/${prefix}-${name}`, routes.map((r) => `${ipRouteArgs(nic, r)}\n`).join(''), 0o644, nic.name));
  }
  return files;
}

function renderSuse(nic: BoundNic): RenderedFile[] {
  const name = safeName(nic.name);
  const bootproto = nic.dhcp4 ? 'dhcp4' : nic.addresses.length > 0 ? 'static' : 'auto6';
  const pairs: [string, string | number][] = [['STARTMODE', 'auto'], ['BOOTPROTO', bootproto]];
  nic.addresses.forEach((a, i) => pairs.push([`IPADDR_${i}`, cidrText(a)]));
  if (nic.mtu !== null) pairs.push(['MTU', nic.mtu]);
  const files = [ownedFile(`${DIRS.suse}/ifcfg-${name}`, vars(pairs), 0o644, nic.name)];
  const lines: string[] = [];
  for (const g of [nic.gateway4, nic.gateway6]) if (g) lines.push(`default ${g} - ${nic.name}`);
  for (const r of nic.routes) lines.push(`${cidrText(r.dst)} ${r.via ?? '-'} - ${nic.name}`);
  if (lines.length > 0) files.push(ownedFile(`${DIRS.suse}/ifroute-${name}`, `${lines.join('\n')}\n`, 0o644, nic.name));
  return files;
}

export function render(plan: NetworkPlan, dialect: IfcfgDialect): RenderedFile[] {
  const dns = dnsInterface(plan);
  return plan.interfaces.flatMap((nic) => (dialect === 'rh' ? renderRh(nic, nic === dns, plan) : renderSuse(nic)));
}
