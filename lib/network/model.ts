import { isObject, own, type Json } from '../json';
import { cidrText, contains, isLinkLocal6, isNetwork, netmaskPrefix, parseAddress, parseCidr, type Cidr, type Family } from './ip';
import { normaliseMac } from './sdc';

/**
 * The one network model: what `sdc:nics`, `sdc:routes`, `sdc:resolvers` and `sdc:dns_domain` ask
 * for, validated and with the semantics decided (which NIC is primary, which gateway applies,
 * which NIC a route goes on). It names NICs by MAC only: binding to the guest's interface names
 * and every file format are the renderers' business, so Linux and Windows share it.
 */

interface Route {
  dst: Cidr;
  /** The next hop, or null for an on-link route (`linklocal` in `sdc:routes`). */
  via: string | null;
}

export interface Nic {
  /** Normalised MAC (`90:b8:d0:11:22:33`). */
  mac: string;
  /** How messages name the NIC: `sdc:nics[1] (net1)`. */
  label: string;
  /** Static addresses, in the order given. */
  addresses: Cidr[];
  /** `dhcp`: DHCPv4. */
  dhcp4: boolean;
  /** `addrconf`: IPv6 stateless autoconfiguration from router advertisements. */
  addrconf: boolean;
  mtu: number | null;
  primary: boolean;
  /** Default gateways: only on the primary NIC, one per family. */
  gateway4: string | null;
  gateway6: string | null;
  routes: Route[];
}

export interface Dns {
  servers: string[];
  search: string[];
}

export interface NetworkModel {
  /** null: the host gave no `sdc:nics`, so every physical interface runs DHCP. */
  nics: Nic[] | null;
  /** null: no resolvers to configure (absent or empty `sdc:resolvers`). */
  dns: Dns | null;
}

/** The raw metadata values (null when the host has no such key). */
export interface NetworkMetadata {
  nics: string | null;
  routes: string | null;
  resolvers: string | null;
  dnsDomain: string | null;
}

/** The metadata keys the network is made from. */
export const NETWORK_KEYS = { nics: 'sdc:nics', routes: 'sdc:routes', resolvers: 'sdc:resolvers', dnsDomain: 'sdc:dns_domain' } as const;

/** The network keys as read from a metadata view. */
export function networkMetadataOf(metadata: { get(key: string): string | null }): NetworkMetadata {
  return {
    nics: metadata.get(NETWORK_KEYS.nics),
    routes: metadata.get(NETWORK_KEYS.routes),
    resolvers: metadata.get(NETWORK_KEYS.resolvers),
    dnsDomain: metadata.get(NETWORK_KEYS.dnsDomain),
  };
}

interface ParsedNetwork {
  /** null when `sdc:nics` is present but unusable as a whole: then nothing may be written. */
  model: NetworkModel | null;
  /** Bad input, one line each, naming the key, the NIC and the field. */
  problems: string[];
  /** Input that is valid but has no effect (a gateway on a NIC that is not primary). */
  notes: string[];
}

const MTU_MIN = 68;
const MTU_MAX = 65535;

interface RawNic extends Nic {
  gateways: { address: string; family: Family }[];
  marked: boolean;
}

function parseJson(key: string, text: string, problems: string[]): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    problems.push(`${key}: not valid JSON`);
    return undefined;
  }
}

function show(value: Json | undefined): string {
  return JSON.stringify(value) ?? 'undefined';
}

/** One `sdc:nics` entry; null when it cannot be configured at all. */
function parseNic(entry: Json, index: number, problems: string[]): RawNic | null {
  const name = own(entry, 'interface');
  const label = `sdc:nics[${index}]${typeof name === 'string' ? ` (${name})` : ''}`;
  const bad = (field: string, value: Json | undefined, why: string) => problems.push(`${label} ${field}: ${show(value)} ${why}`);
  if (!isObject(entry)) {
    problems.push(`${label}: not an object; NIC skipped`);
    return null;
  }
  const mac = normaliseMac(entry.mac);
  if (mac === null) {
    bad('mac', entry.mac, 'is not a MAC address; NIC skipped');
    return null;
  }
  const nic: RawNic = { mac, label, addresses: [], dhcp4: false, addrconf: false, mtu: null, primary: false, gateway4: null, gateway6: null, routes: [], gateways: [], marked: entry.primary === true };

  const addEntry = (field: string, value: Json): void => {
    if (value === 'dhcp') nic.dhcp4 = true;
    else if (value === 'addrconf') nic.addrconf = true;
    else {
      const cidr = parseCidr(value);
      if (!cidr) bad(field, value, 'is not an address with a prefix (10.0.0.5/24, 2001:db8::5/64), dhcp or addrconf; ignored');
      else if (nic.addresses.some((a) => a.address === cidr.address)) bad(field, value, 'repeats an address; ignored');
      else nic.addresses.push(cidr);
    }
  };
  if (entry.ips !== undefined) {
    if (Array.isArray(entry.ips)) entry.ips.forEach((ip, i) => addEntry(`ips[${i}]`, ip));
    else bad('ips', entry.ips, 'is not a list; ignored');
  }
  if (!Array.isArray(entry.ips)) parseLegacyIp(entry.ip, entry.netmask, addEntry, bad);
  if (nic.addresses.length === 0 && !nic.dhcp4 && !nic.addrconf) {
    problems.push(`${label}: no usable address (ips, or ip with netmask); NIC skipped`);
    return null;
  }

  const gateways = entry.gateways !== undefined ? entry.gateways : entry.gateway !== undefined ? [entry.gateway] : [];
  const gatewayField = entry.gateways !== undefined ? 'gateways' : 'gateway';
  if (!Array.isArray(gateways)) bad(gatewayField, gateways, 'is not a list; ignored');
  else {
    gateways.forEach((g, i) => {
      const ip = parseAddress(g);
      if (ip) nic.gateways.push(ip);
      else bad(gatewayField === 'gateways' ? `gateways[${i}]` : 'gateway', g, 'is not an IP address; ignored');
    });
  }

  if (entry.mtu !== undefined) {
    const mtu = typeof entry.mtu === 'string' && /^\d+$/.test(entry.mtu) ? Number(entry.mtu) : entry.mtu;
    if (typeof mtu === 'number' && Number.isInteger(mtu) && mtu >= MTU_MIN && mtu <= MTU_MAX) nic.mtu = mtu;
    else bad('mtu', entry.mtu, `is not a whole number from ${MTU_MIN} to ${MTU_MAX}; ignored`);
  }
  return nic;
}

/** The format before `ips`: `ip` (an address or `dhcp`) with `netmask`. */
function parseLegacyIp(ip: Json | undefined, netmask: Json | undefined, add: (field: string, value: Json) => void, bad: (field: string, value: Json | undefined, why: string) => void): void {
  if (ip === undefined) return;
  if (ip === 'dhcp') return add('ip', ip);
  const address = parseAddress(ip);
  if (!address) return void bad('ip', ip, 'is not an IP address or dhcp; ignored');
  const prefix = address.family === 4 ? netmaskPrefix(netmask) : null;
  if (prefix === null) return void bad('netmask', netmask, `is not a netmask for ip ${show(ip)}; ip ignored`);
  add('ip', `${address.address}/${prefix}`);
}

/** Primary: the NIC marked so; a single NIC; else the first with a gateway. */
function choosePrimary(nics: RawNic[], problems: string[]): RawNic | undefined {
  const marked = nics.filter((n) => n.marked);
  for (const extra of marked.slice(1)) problems.push(`${extra.label} primary: another NIC is already primary (${marked[0].label}); ignored`);
  if (marked.length > 0) return marked[0];
  if (nics.length === 1) return nics[0];
  return nics.find((n) => n.gateways.length > 0);
}

function setGateways(primary: RawNic | undefined, nics: RawNic[], problems: string[], notes: string[]): void {
  for (const nic of nics) {
    if (nic !== primary && nic.gateways.length > 0) notes.push(`${nic.label}: not the primary NIC, so its gateways are not used`);
  }
  if (!primary) return;
  primary.primary = true;
  for (const family of [4, 6] as const) {
    const gateway = primary.gateways.find((g) => g.family === family);
    if (!gateway) continue;
    const statics = primary.addresses.filter((a) => a.family === family);
    if (statics.length === 0) {
      notes.push(`${primary.label}: gateway ${gateway.address} not used: the NIC has no static IPv${family} address`);
    } else if (!statics.some((a) => contains(a, gateway.address, family)) && !(family === 6 && isLinkLocal6(gateway.address))) {
      problems.push(`${primary.label} gateways: ${gateway.address} is outside the NIC's networks (${statics.map(cidrText).join(', ')}); ignored`);
    } else if (family === 4) primary.gateway4 = gateway.address;
    else primary.gateway6 = gateway.address;
  }
}

/** Which NIC a route goes on: the one whose network holds the gateway, else one that learns its network by DHCP or RA. */
function routeNic(nics: RawNic[], primary: RawNic | undefined, via: { address: string; family: Family }, linklocal: boolean): RawNic | undefined {
  if (linklocal) return nics.find((n) => n.addresses.some((a) => a.address === via.address));
  const onNetwork = nics.find((n) => n.addresses.some((a) => contains(a, via.address, via.family)));
  if (onNetwork) return onNetwork;
  const dynamic = (n: RawNic) => (via.family === 4 ? n.dhcp4 : n.addrconf);
  return primary && dynamic(primary) ? primary : nics.find(dynamic);
}

function parseRoutes(text: string, nics: RawNic[], primary: RawNic | undefined, problems: string[]): void {
  const routes = parseJson('sdc:routes', text, problems);
  if (routes === undefined) return;
  if (!Array.isArray(routes)) return void problems.push('sdc:routes: not a list; ignored');
  routes.forEach((entry, i) => {
    const label = `sdc:routes[${i}]`;
    const dst = parseCidr(own(entry, 'dst'), true);
    const via = parseAddress(own(entry, 'gateway'));
    const linklocal = own(entry, 'linklocal') === true;
    if (!dst) return void problems.push(`${label} dst: ${show(own(entry, 'dst'))} is not an address or network; route skipped`);
    if (!isNetwork(dst)) return void problems.push(`${label} dst: ${cidrText(dst)} has bits set beyond the prefix; route skipped`);
    if (!via) return void problems.push(`${label} gateway: ${show(own(entry, 'gateway'))} is not an IP address; route skipped`);
    if (via.family !== dst.family) return void problems.push(`${label} gateway: ${via.address} is not of the family of ${cidrText(dst)}; route skipped`);
    const nic = routeNic(nics, primary, via, linklocal);
    if (!nic) {
      const why = linklocal ? 'is not an address of any NIC' : "is in no NIC's network";
      return void problems.push(`${label} gateway: ${via.address} ${why}; route skipped`);
    }
    nic.routes.push({ dst, via: linklocal ? null : via.address });
  });
}

function parseDns(resolversText: string | null, domainText: string | null, problems: string[]): Dns | null {
  const servers: string[] = [];
  if (resolversText !== null) {
    const resolvers = parseJson('sdc:resolvers', resolversText, problems);
    if (Array.isArray(resolvers)) {
      resolvers.forEach((r, i) => {
        const ip = parseAddress(r);
        if (ip) servers.push(ip.address);
        else problems.push(`sdc:resolvers[${i}]: ${show(r)} is not an IP address; ignored`);
      });
    } else if (resolvers !== undefined) problems.push('sdc:resolvers: not a list; ignored');
  }
  const search: string[] = [];
  if (domainText !== null) {
    const domain = domainText.trim().replace(/\.$/, '');
    if (/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(domain) && domain.length <= 253) search.push(domain);
    else if (domain !== '') problems.push(`sdc:dns_domain: ${show(domainText)} is not a domain name; ignored`);
  }
  return servers.length > 0 ? { servers, search } : null;
}

/** Validates the metadata and decides its meaning; bad parts are reported and left out. */
export function parseNetwork(metadata: NetworkMetadata): ParsedNetwork {
  const problems: string[] = [];
  const notes: string[] = [];
  const dns = parseDns(metadata.resolvers, metadata.dnsDomain, problems);
  if (metadata.nics === null) return { model: { nics: null, dns }, problems, notes };
  const entries = parseJson('sdc:nics', metadata.nics, problems);
  if (entries === undefined) return { model: null, problems, notes };
  if (!Array.isArray(entries)) {
    problems.push('sdc:nics: not a list');
    return { model: null, problems, notes };
  }
  const nics: RawNic[] = [];
  entries.forEach((entry, i) => {
    const nic = parseNic(entry, i, problems);
    if (!nic) return;
    const twin = nics.find((n) => n.mac === nic.mac);
    if (twin) problems.push(`${nic.label} mac: ${nic.mac} is also the MAC of ${twin.label}; NIC skipped`);
    else nics.push(nic);
  });
  const primary = choosePrimary(nics, problems);
  setGateways(primary, nics, problems, notes);
  if (metadata.routes !== null) parseRoutes(metadata.routes, nics, primary, problems);
  const clean = nics.map(({ gateways: _gateways, marked: _marked, ...nic }) => nic);
  return { model: { nics: clean, dns }, problems, notes };
}
