import { list, psQuote } from '../powershell-text';
import { cidrText, parseAddress, parseCidr, type Family } from './ip';
import { bindNetwork, dnsInterface, type BoundNic, type Link, type NetworkPlan } from './links';
import type { NetworkModel } from './model';
import { normaliseMac } from './sdc';

/**
 * The network model on Windows. There are no files to render: the running configuration is read
 * (the adapters query of lib/guest/windows/configure-network.ts), each NIC of the model is bound
 * by MAC to an adapter, and the differences become one PowerShell script of NetTCPIP and
 * DnsClient cmdlets. On the adapters sdc:nics names, the metadata is the whole truth: addresses,
 * static routes, DHCP, router discovery, MTU and (on the primary) the resolvers. Adapters it does
 * not name are never touched.
 */

/** One adapter as the query reports it. */
export interface WindowsAdapter {
  /** As Windows prints it: `90-B8-D0-00-00-01`. */
  mac: string;
  index: number;
  /** The interface alias: `Ethernet 2`. */
  name: string;
  /** Backed by a device (NetKVM), not a virtual adapter (a Hyper-V vEthernet, a team). */
  hardware: boolean;
  dhcp4: boolean;
  /** IPv6 router discovery: addresses and routes from router advertisements. */
  routerDiscovery: boolean;
  /** NlMtu of the IPv4 and IPv6 interfaces; 0 where that family is not bound. */
  mtu4: number;
  mtu6: number;
  /** Addresses we or someone set by hand (PrefixOrigin Manual), `address/prefix`. */
  addresses: string[];
  /** Static routes (Protocol NetMgmt); `via` 0.0.0.0 or :: is on-link. */
  routes: Array<{ dst: string; via: string }>;
  /** The DNS servers in effect, either family. */
  dns: string[];
  /** The connection-specific DNS suffix. */
  suffix: string;
}

/** The lines for one adapter; empty when it already is as the model says. */
interface AdapterChanges {
  nic: BoundNic;
  adapter: WindowsAdapter;
  lines: string[];
}

/** Windows lists these as the IPv6 DNS servers of an adapter that has none configured. */
const DEFAULT_DNS6 = /^fec0:0:0:ffff::[123]$/i;

export const windowsMac = (mac: string) => mac.toUpperCase().replace(/:/g, '-');

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

/** The query's JSON as adapters; entries without a MAC or an index are dropped. */
export function adaptersFromQuery(json: unknown): WindowsAdapter[] {
  const adapters: WindowsAdapter[] = [];
  for (const e of list(json) as Array<Record<string, unknown>>) {
    if (typeof e !== 'object' || e === null || normaliseMac(str(e.mac)) === null || num(e.index) <= 0) continue;
    const routes = list(e.routes) as Array<Record<string, unknown>>;
    adapters.push({
      mac: str(e.mac),
      index: num(e.index),
      name: str(e.name),
      hardware: e.hardware === true,
      dhcp4: e.dhcp4 === true,
      routerDiscovery: e.routerDiscovery === true,
      mtu4: num(e.mtu4),
      mtu6: num(e.mtu6),
      addresses: strings(e.addresses),
      routes: routes.map((r) => ({ dst: str(r?.dst), via: str(r?.via) })),
      dns: strings(e.dns),
      suffix: str(e.suffix),
    });
  }
  return adapters;
}

/** The adapters as the shared binder sees interfaces: name and MAC; a hardware adapter wins over a virtual one with its MAC. */
export function bindToAdapters(model: NetworkModel, adapters: WindowsAdapter[]): { plan: NetworkPlan; problems: string[] } {
  const links: Link[] = adapters.map((a) => ({ name: a.name, mac: normaliseMac(a.mac) as string, physical: a.hardware }));
  return bindNetwork(model, links);
}

/** `10.0.0.5/24` and `fe80::1%12/64` in canonical form; null when unreadable. */
function canonicalCidr(text: string): string | null {
  const c = parseCidr(text.replace(/%[^/]*/, ''), true);
  return c && cidrText(c);
}

function canonicalAddress(text: string): string | null {
  return parseAddress(text.replace(/%.*/, ''))?.address ?? null;
}

const onLink = (family: Family) => (family === 4 ? '0.0.0.0' : '::');
const routeKey = (dst: string, via: string) => `${dst} via ${via}`;

/** The static routes the model gives a NIC: its default gateways (primary only) and its sdc:routes. */
function wantedRoutes(nic: BoundNic): Map<string, { dst: string; via: string }> {
  const routes = new Map<string, { dst: string; via: string }>();
  const add = (dst: string, via: string) => routes.set(routeKey(dst, via), { dst, via });
  if (nic.gateway4) add('0.0.0.0/0', nic.gateway4);
  if (nic.gateway6) add('::/0', nic.gateway6);
  for (const r of nic.routes) add(cidrText(r.dst), r.via ?? onLink(r.dst.family));
  return routes;
}

function currentRoutes(adapter: WindowsAdapter): Map<string, { dst: string; via: string }> {
  const routes = new Map<string, { dst: string; via: string }>();
  for (const r of adapter.routes) {
    const dst = canonicalCidr(r.dst);
    const via = canonicalAddress(r.via);
    if (dst && via) routes.set(routeKey(dst, via), { dst, via });
  }
  return routes;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function changesFor(nic: BoundNic, adapter: WindowsAdapter, dns: NetworkPlan['dns']): string[] {
  const lines: string[] = [];
  const on = (cmdlet: string, args: string) => lines.push(`${cmdlet} -InterfaceIndex $i ${args}`);
  if (nic.dhcp4 !== adapter.dhcp4) on('Set-NetIPInterface', `-AddressFamily IPv4 -Dhcp ${nic.dhcp4 ? 'Enabled' : 'Disabled'}`);
  if (nic.addrconf !== adapter.routerDiscovery) on('Set-NetIPInterface', `-AddressFamily IPv6 -RouterDiscovery ${nic.addrconf ? 'Enabled' : 'Disabled'}`);
  if (nic.mtu !== null) {
    if (adapter.mtu4 !== 0 && adapter.mtu4 !== nic.mtu) on('Set-NetIPInterface', `-AddressFamily IPv4 -NlMtuBytes ${nic.mtu}`);
    // IPv6 needs at least 1280; below that only IPv4 gets the MTU.
    if (adapter.mtu6 !== 0 && nic.mtu >= 1280 && adapter.mtu6 !== nic.mtu) on('Set-NetIPInterface', `-AddressFamily IPv6 -NlMtuBytes ${nic.mtu}`);
  }
  const wanted = wantedRoutes(nic);
  const present = currentRoutes(adapter);
  for (const [key, r] of present) if (!wanted.has(key)) on('Remove-NetRoute', `-DestinationPrefix ${psQuote(r.dst)} -NextHop ${psQuote(r.via)} -Confirm:$false`);
  const wantedAddresses = nic.addresses.map(cidrText);
  const presentAddresses = adapter.addresses.map(canonicalCidr).filter((a): a is string => a !== null);
  for (const a of presentAddresses) if (!wantedAddresses.includes(a)) on('Remove-NetIPAddress', `-IPAddress ${psQuote(a.split('/')[0])} -Confirm:$false`);
  for (const a of nic.addresses) if (!presentAddresses.includes(cidrText(a))) on('New-NetIPAddress', `-IPAddress ${psQuote(a.address)} -PrefixLength ${a.prefix} | Out-Null`);
  for (const [key, r] of wanted) if (!present.has(key)) on('New-NetRoute', `-DestinationPrefix ${psQuote(r.dst)} -NextHop ${psQuote(r.via)} | Out-Null`);
  if (dns) {
    const family = (f: Family) => (list: string[]) => list.filter((s) => parseAddress(s)?.family === f);
    const current = adapter.dns.map(canonicalAddress).filter((s): s is string => s !== null && !DEFAULT_DNS6.test(s));
    if (!sameList(family(4)(dns.servers), family(4)(current)) || !sameList(family(6)(dns.servers), family(6)(current))) {
      on('Set-DnsClientServerAddress', `-ServerAddresses @(${dns.servers.map(psQuote).join(', ')})`);
    }
    const suffix = dns.search[0];
    if (suffix !== undefined && suffix.toLowerCase() !== adapter.suffix.toLowerCase()) on('Set-DnsClient', `-ConnectionSpecificSuffix ${psQuote(suffix)}`);
  }
  return lines;
}

/** What must change on each bound adapter for the running configuration to be the plan. */
export function planAdapterChanges(plan: NetworkPlan, adapters: WindowsAdapter[]): AdapterChanges[] {
  const dnsNic = dnsInterface(plan);
  return plan.interfaces.map((nic) => {
    const adapter = adapters.find((a) => a.name === nic.name) as WindowsAdapter;
    return { nic, adapter, lines: changesFor(nic, adapter, nic === dnsNic ? plan.dns : null) };
  });
}

/** The script that makes the changes, or null when there are none. Each block first checks that the adapter still has its MAC. */
export function networkScript(changes: AdapterChanges[]): string | null {
  const blocks = changes.filter((c) => c.lines.length > 0);
  if (blocks.length === 0) return null;
  const out = [
    '# Written by sdc-guest configure-network from sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain:',
    '# what differed from the running configuration when it was written.',
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    'function Select-SdcAdapter([int]$Index, [string]$Mac) {',
    '  $adapter = Get-NetAdapter -InterfaceIndex $Index -ErrorAction SilentlyContinue',
    '  if (-not $adapter -or $adapter.MacAddress -ne $Mac) { throw "adapter $Index no longer has the MAC address $Mac" }',
    '  return $Index',
    '}',
  ];
  for (const { nic, adapter, lines } of blocks) {
    out.push('', `# ${nic.label === adapter.name ? nic.label : `${nic.label}: ${adapter.name}`}`, `$i = Select-SdcAdapter ${adapter.index} ${psQuote(windowsMac(nic.mac))}`, ...lines);
  }
  return `${out.join('\n')}\n`;
}
