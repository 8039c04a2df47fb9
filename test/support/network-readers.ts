import { cidrText, parseAddress, parseCidr } from '../../lib/network/ip';
import type { NetworkPlan } from '../../lib/network/links';

/**
 * Readers of each format we write, independent of the renderers, back to one view: the addresses,
 * gateways, routes, MTU and dynamic settings per interface, and the resolvers. The round trip
 * compares this view of the rendered files with the same view of the plan.
 */

export interface NicView {
  /** MAC (lower case) where the format matches by MAC, else the interface name. */
  key: string;
  addresses: string[];
  gateway4: string | null;
  gateway6: string | null;
  /** `DST via GW` or `DST link`, sorted. */
  routes: string[];
  mtu: number | null;
  dhcp4: boolean;
  addrconf: boolean;
}

export interface DnsView {
  servers: string[];
  search: string[];
}

interface View {
  nics: NicView[];
  dns: DnsView | null;
}

const canon = (cidr: string) => {
  const c = parseCidr(cidr, true);
  if (!c) throw new Error(`reader: bad address ${cidr}`);
  return cidrText(c);
};
const ip = (text: string) => parseAddress(text)?.address ?? `bad:${text}`;
const route = (dst: string, via: string | null) => `${canon(dst)} ${via === null ? 'link' : `via ${ip(via)}`}`;
const emptyNic = (key: string): NicView => ({ key, addresses: [], gateway4: null, gateway6: null, routes: [], mtu: null, dhcp4: false, addrconf: false });
const v6First = (a: string) => (a.includes(':') ? 1 : 0);
/** Formats group addresses by family: IPv4 first, each family in its given order. Routes and NICs sorted. */
const sortNics = (nics: NicView[]) =>
  nics.map((n) => ({ ...n, addresses: [...n.addresses].sort((a, b) => v6First(a) - v6First(b)), routes: [...n.routes].sort() })).sort((a, b) => a.key.localeCompare(b.key));

/** The view of a plan; `byMac` for formats that match by MAC. */
export function viewOfPlan(plan: NetworkPlan, byMac: boolean): NicView[] {
  return sortNics(
    plan.interfaces.map((n) => ({
      key: byMac ? n.mac : n.name,
      addresses: n.addresses.map(cidrText),
      gateway4: n.gateway4,
      gateway6: n.gateway6,
      routes: n.routes.map((r) => route(cidrText(r.dst), r.via)),
      mtu: n.mtu,
      dhcp4: n.dhcp4,
      addrconf: n.addrconf,
    })),
  );
}

/** `[Section]` / `key=value` files (systemd units, GLib key files); sections may repeat. */
function readIni(text: string): { name: string; entries: [string, string][] }[] {
  const sections: { name: string; entries: [string, string][] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) sections.push({ name: head[1], entries: [] });
    else if (sections.length > 0 && line.includes('=')) sections[sections.length - 1].entries.push([line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()]);
    else throw new Error(`reader: stray line ${JSON.stringify(line)}`);
  }
  return sections;
}

const values = (s: { entries: [string, string][] }, key: string) => s.entries.filter(([k]) => k === key).map(([, v]) => v);
const value = (s: { entries: [string, string][] } | undefined, key: string) => (s ? values(s, key).pop() ?? null : null);

/** systemd-networkd `.network` files (ours, or netplan's). */
export function readNetworkd(files: string[]): View {
  let dns: DnsView | null = null;
  const nics = files.map((text) => {
    const sections = readIni(text);
    const match = sections.find((s) => s.name === 'Match')!;
    const nic = emptyNic((value(match, 'MACAddress') ?? value(match, 'PermanentMACAddress') ?? value(match, 'Name') ?? '?').toLowerCase());
    const mtu = value(sections.find((s) => s.name === 'Link'), 'MTUBytes');
    nic.mtu = mtu === null ? null : Number(mtu);
    const network = sections.find((s) => s.name === 'Network')!;
    nic.dhcp4 = ['ipv4', 'yes', 'true'].includes(value(network, 'DHCP') ?? 'no');
    nic.addrconf = ['yes', 'true'].includes(value(network, 'IPv6AcceptRA') ?? 'no');
    nic.addresses = values(network, 'Address').map(canon);
    const setGateway = (g: string) => (g.includes(':') ? (nic.gateway6 = ip(g)) : (nic.gateway4 = ip(g)));
    values(network, 'Gateway').forEach(setGateway);
    const servers = values(network, 'DNS').map(ip);
    if (servers.length > 0) dns = { servers, search: values(network, 'Domains').flatMap((d) => d.split(/\s+/)) };
    for (const r of sections.filter((s) => s.name === 'Route')) {
      const dst = value(r, 'Destination')!;
      const gw = value(r, 'Gateway');
      if (/^(0\.0\.0\.0|::)\/0$/.test(dst) && gw) setGateway(gw);
      else nic.routes.push(route(dst, value(r, 'Scope') === 'link' && !gw ? null : gw));
    }
    return nic;
  });
  return { nics: sortNics(nics), dns };
}

/** NetworkManager keyfiles. */
export function readKeyfiles(files: string[]): View {
  const servers: string[] = [];
  const search: string[] = [];
  const nics = files.map((text) => {
    const sections = readIni(text);
    const get = (name: string) => sections.find((s) => s.name === name);
    const nic = emptyNic(value(get('ethernet'), 'mac-address')!.toLowerCase());
    const mtu = value(get('ethernet'), 'mtu');
    nic.mtu = mtu === null ? null : Number(mtu);
    for (const family of [4, 6] as const) {
      const s = get(`ipv${family}`);
      const method = value(s, 'method');
      if (family === 4) nic.dhcp4 = method === 'auto';
      else nic.addrconf = method === 'auto';
      if (!s) continue;
      const numbered = (prefix: string) => s.entries.filter(([k]) => new RegExp(`^${prefix}\\d+$`).test(k)).sort(([a], [b]) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
      // NetworkManager itself writes the gateway after the first address: `address1=ADDR,GW`.
      const addresses = numbered('address').map(([, v]) => v.split(','));
      nic.addresses.push(...addresses.map(([a]) => canon(a)));
      const gateway = value(s, 'gateway') ?? addresses.find((a) => a.length > 1)?.[1] ?? null;
      if (gateway) nic[family === 4 ? 'gateway4' : 'gateway6'] = ip(gateway);
      for (const [, v] of numbered('route')) {
        const [dst, via] = v.split(',');
        nic.routes.push(route(dst, via ?? null));
      }
      servers.push(...(value(s, 'dns') ?? '').split(';').filter(Boolean).map(ip));
      search.push(...(value(s, 'dns-search') ?? '').split(';').filter(Boolean));
    }
    return nic;
  });
  return { nics: sortNics(nics), dns: servers.length > 0 ? { servers, search } : null };
}

/** interfaces(5) files: stanzas of one interface may repeat; routes from our `up ip route add` lines. */
export function readInterfaces(files: string[]): View {
  const byName = new Map<string, NicView>();
  let dns = null as DnsView | null;
  for (const text of files) {
    let nic: NicView | null = null;
    let inet = '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('auto ')) continue;
      const head = /^iface (\S+) (inet6?) (\S+)$/.exec(line);
      if (head) {
        nic = byName.get(head[1]) ?? emptyNic(head[1]);
        byName.set(head[1], nic);
        inet = head[2];
        if (head[3] === 'dhcp') nic.dhcp4 = true;
        if (head[3] === 'auto') nic.addrconf = true;
        continue;
      }
      if (!nic) throw new Error(`reader: option outside a stanza: ${line}`);
      const [key, ...rest] = line.split(/\s+/);
      const arg = rest.join(' ');
      if (key === 'address') nic.addresses.push(canon(arg));
      else if (key === 'gateway') nic[inet === 'inet' ? 'gateway4' : 'gateway6'] = ip(arg);
      else if (key === 'autoconf' && arg === '1') nic.addrconf = true;
      else if (key === 'dns-nameservers') dns = { servers: rest.map(ip), search: dns?.search ?? [] };
      else if (key === 'dns-search') dns = { servers: dns?.servers ?? [], search: rest };
      else if (key === 'pre-up' && /^ip link set dev \S+ mtu (\d+)$/.test(arg)) nic.mtu = Number(/mtu (\d+)$/.exec(arg)![1]);
      else if (key === 'up') {
        const m = /^ip route add (\S+) (?:via (\S+) dev \S+|dev \S+ scope link)$/.exec(arg);
        if (!m) throw new Error(`reader: unexpected up line ${arg}`);
        nic.routes.push(route(m[1], m[2] ?? null));
      } else if (!['down', 'accept_ra'].includes(key)) throw new Error(`reader: unexpected option ${line}`);
    }
  }
  return { nics: sortNics([...byName.values()]), dns };
}

/** Shell-style `KEY='value'` files. */
function readShellVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(?:'([^']*)'|"([^"]*)"|(\S*))$/.exec(line);
    if (!m) throw new Error(`reader: not a variable line ${JSON.stringify(line)}`);
    vars.set(m[1], m[2] ?? m[3] ?? m[4]);
  }
  return vars;
}

/** Red Hat ifcfg files: `files` maps a base name (ifcfg-eth0, route-eth0, route6-eth0) to its text. */
export function readIfcfgRh(files: Map<string, string>): View {
  let dns: DnsView | null = null;
  const nics: NicView[] = [];
  for (const [name, text] of files) {
    if (!name.startsWith('ifcfg-')) continue;
    const v = readShellVars(text);
    const device = v.get('DEVICE')!;
    const nic = emptyNic(device);
    nic.dhcp4 = v.get('BOOTPROTO') === 'dhcp';
    nic.addrconf = v.get('IPV6_AUTOCONF') === 'yes';
    for (let i = 0; v.has(`IPADDR${i}`); i++) nic.addresses.push(canon(`${v.get(`IPADDR${i}`)}/${v.get(`PREFIX${i}`)}`));
    if (v.has('IPV6ADDR')) nic.addresses.push(canon(v.get('IPV6ADDR')!));
    nic.addresses.push(...(v.get('IPV6ADDR_SECONDARIES') ?? '').split(/\s+/).filter(Boolean).map(canon));
    nic.gateway4 = v.has('GATEWAY') ? ip(v.get('GATEWAY')!) : null;
    nic.gateway6 = v.has('IPV6_DEFAULTGW') ? ip(v.get('IPV6_DEFAULTGW')!) : null;
    nic.mtu = v.has('MTU') ? Number(v.get('MTU')) : null;
    const servers = [...v.keys()].filter((k) => /^DNS\d+$/.test(k)).sort().map((k) => ip(v.get(k)!));
    if (servers.length > 0) dns = { servers, search: (v.get('DOMAIN') ?? '').split(/\s+/).filter(Boolean) };
    for (const routeFile of [`route-${device}`, `route6-${device}`]) {
      for (const line of (files.get(routeFile) ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))) {
        const m = /^(\S+) (?:via (\S+) dev \S+|dev \S+ scope link)$/.exec(line.trim());
        if (!m) throw new Error(`reader: unexpected route line ${line}`);
        nic.routes.push(route(m[1], m[2] ?? null));
      }
    }
    nics.push(nic);
  }
  return { nics: sortNics(nics), dns };
}

/** SUSE ifcfg and ifroute files, by base name. */
export function readIfcfgSuse(files: Map<string, string>): View {
  const nics: NicView[] = [];
  for (const [name, text] of files) {
    if (!name.startsWith('ifcfg-')) continue;
    const device = name.slice('ifcfg-'.length);
    const v = readShellVars(text);
    const nic = emptyNic(device);
    nic.dhcp4 = ['dhcp4', 'dhcp'].includes(v.get('BOOTPROTO') ?? '');
    nic.addrconf = v.get('BOOTPROTO') === 'auto6';
    for (let i = 0; v.has(`IPADDR_${i}`); i++) nic.addresses.push(canon(v.get(`IPADDR_${i}`)!));
    nic.mtu = v.has('MTU') ? Number(v.get('MTU')) : null;
    for (const line of (files.get(`ifroute-${device}`) ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))) {
      const [dst, gw] = line.trim().split(/\s+/);
      if (dst === 'default') nic[gw.includes(':') ? 'gateway6' : 'gateway4'] = ip(gw);
      else nic.routes.push(route(dst, gw === '-' ? null : gw));
    }
    nics.push(nic);
  }
  return { nics: sortNics(nics), dns: null };
}

export function readResolvConf(text: string): DnsView | null {
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
  const servers = lines.filter(([k]) => k === 'nameserver').map(([, a]) => ip(a));
  const search = lines.filter(([k]) => k === 'search').flatMap(([, ...d]) => d);
  return servers.length > 0 ? { servers, search } : null;
}
