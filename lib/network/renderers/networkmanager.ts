import { createHash } from 'node:crypto';
import { cidrText, type Family } from '../ip';
import { dnsInterface, type BoundNic, type NetworkPlan } from '../links';
import { addressesOf, ownedFile, routesOf, safeName, type OwnedFiles, type RenderedFile } from './files';

/**
 * NetworkManager: one keyfile per NIC (mode 0600, or NetworkManager ignores it), matched by MAC,
 * with a UUID derived from the MAC so that rewriting a profile keeps its identity. The priority
 * puts it ahead of the automatic "Wired connection" profiles.
 */

const DIR = '/etc/NetworkManager/system-connections';
export const OWNED: OwnedFiles = { dir: DIR, name: /^sdc-[A-Za-z0-9_-]+\.nmconnection$/ };

/** A name-based (version 5 layout) UUID from the MAC. */
function connectionUuid(mac: string): string {
  const h = createHash('sha256').update(`sdc-vm-tools:${mac}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function method(nic: BoundNic, family: Family): string {
  const statics = addressesOf(nic, family).length > 0;
  if (family === 4) return nic.dhcp4 ? 'auto' : statics ? 'manual' : 'disabled';
  return nic.addrconf ? 'auto' : statics ? 'manual' : 'link-local';
}

/** The settings NetworkManager lets hold resolvers: an IP section that is not disabled or link-local. */
function carriesDns(nic: BoundNic, family: Family): boolean {
  return ['auto', 'manual'].includes(method(nic, family));
}

/**
 * Where each family's resolvers go: the primary's section of that family, else the first NIC
 * that configures that family (a resolver of a family that no NIC has could not be reached).
 * The search list goes with the IPv4 resolvers, or with the IPv6 ones when there are none.
 */
function dnsPlacement(plan: NetworkPlan): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  if (!plan.dns) return lines;
  const first = dnsInterface(plan);
  const ordered = first ? [first, ...plan.interfaces.filter((n) => n !== first)] : [];
  let searchDone = plan.dns.search.length === 0;
  for (const family of [4, 6] as const) {
    const servers = plan.dns.servers.filter((s) => s.includes(':') === (family === 6));
    const nic = ordered.find((n) => carriesDns(n, family));
    if (servers.length === 0 || !nic) continue;
    const key = `${nic.name}/${family}`;
    lines.set(key, [`dns=${servers.join(';')};`]);
    if (!searchDone) lines.get(key)!.push(`dns-search=${plan.dns.search.join(';')};`);
    searchDone = true;
  }
  return lines;
}

function ipSection(nic: BoundNic, family: Family, dns: string[]): string[] {
  const lines = [`[ipv${family}]`, `method=${method(nic, family)}`];
  addressesOf(nic, family).forEach((a, i) => lines.push(`address${i + 1}=${cidrText(a)}`));
  const gateway = family === 4 ? nic.gateway4 : nic.gateway6;
  if (gateway) lines.push(`gateway=${gateway}`);
  routesOf(nic, family).forEach((r, i) => lines.push(`route${i + 1}=${cidrText(r.dst)}${r.via === null ? '' : `,${r.via}`}`));
  return [...lines, ...dns];
}

function keyfile(nic: BoundNic, dns: Map<string, string[]>): string {
  const lines = ['[connection]', `id=sdc-${nic.name}`, `uuid=${connectionUuid(nic.mac)}`, 'type=ethernet', 'autoconnect=true', 'autoconnect-priority=50', ''];
  lines.push('[ethernet]', `mac-address=${nic.mac.toUpperCase()}`);
  if (nic.mtu !== null) lines.push(`mtu=${nic.mtu}`);
  lines.push('', ...ipSection(nic, 4, dns.get(`${nic.name}/4`) ?? []), '', ...ipSection(nic, 6, dns.get(`${nic.name}/6`) ?? []));
  return `${lines.join('\n')}\n`;
}

export function render(plan: NetworkPlan): RenderedFile[] {
  const dns = dnsPlacement(plan);
  return plan.interfaces.map((nic) => ownedFile(`${DIR}/sdc-${safeName(nic.name)}.nmconnection`, keyfile(nic, dns), 0o600, nic.name));
}
