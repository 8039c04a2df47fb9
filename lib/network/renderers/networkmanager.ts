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
export function connectionUuid(mac: string): string {
  const h = createHash('sha256').update(`sdc-vm-tools:${mac}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function method(nic: BoundNic, family: Family): string {
  const statics = addressesOf(nic, family).length > 0;
  if (family === 4) return nic.dhcp4 ? 'auto' : statics ? 'manual' : 'disabled';
  return nic.addrconf ? 'auto' : statics ? 'manual' : 'link-local';
}

function ipSection(nic: BoundNic, family: Family, dns: NetworkPlan['dns'], searchHere: boolean): string[] {
  const lines = [`[ipv${family}]`, `method=${method(nic, family)}`];
  addressesOf(nic, family).forEach((a, i) => lines.push(`address${i + 1}=${cidrText(a)}`));
  const gateway = family === 4 ? nic.gateway4 : nic.gateway6;
  if (gateway) lines.push(`gateway=${gateway}`);
  routesOf(nic, family).forEach((r, i) => lines.push(`route${i + 1}=${cidrText(r.dst)}${r.via === null ? '' : `,${r.via}`}`));
  const servers = dns?.servers.filter((s) => s.includes(':') === (family === 6)) ?? [];
  if (servers.length > 0) lines.push(`dns=${servers.join(';')};`);
  if (searchHere && dns && dns.search.length > 0) lines.push(`dns-search=${dns.search.join(';')};`);
  return lines;
}

function keyfile(nic: BoundNic, withDns: boolean, plan: NetworkPlan): string {
  const dns = withDns ? plan.dns : null;
  const lines = ['[connection]', `id=sdc-${nic.name}`, `uuid=${connectionUuid(nic.mac)}`, 'type=ethernet', 'autoconnect=true', 'autoconnect-priority=50', ''];
  lines.push('[ethernet]', `mac-address=${nic.mac.toUpperCase()}`);
  if (nic.mtu !== null) lines.push(`mtu=${nic.mtu}`);
  const searchIn4 = method(nic, 4) !== 'disabled';
  lines.push('', ...ipSection(nic, 4, dns, searchIn4), '', ...ipSection(nic, 6, dns, !searchIn4));
  return `${lines.join('\n')}\n`;
}

export function render(plan: NetworkPlan): RenderedFile[] {
  const dns = dnsInterface(plan);
  return plan.interfaces.map((nic) => ownedFile(`${DIR}/sdc-${safeName(nic.name)}.nmconnection`, keyfile(nic, nic === dns, plan), 0o600, nic.name));
}
