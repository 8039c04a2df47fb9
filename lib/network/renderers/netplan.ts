import { cidrText } from '../ip';
import { dnsInterface, type BoundNic, type NetworkPlan } from '../links';
import { ownedFile, type OwnedFiles, type RenderedFile } from './files';

/**
 * netplan: one YAML file with every NIC, matched by MAC. No `renderer:` key, so the system's own
 * choice (networkd, or NetworkManager from another file) applies. Scalars are JSON strings, which
 * YAML reads as they are. Default routes are `routes` entries (`gateway4/6` are deprecated).
 */

const PATH = '/etc/netplan/50-sdc-vm-tools.yaml';
export const OWNED: OwnedFiles = { dir: '/etc/netplan', name: /^50-sdc-vm-tools\.yaml$/ };

const q = JSON.stringify;

function ethernet(nic: BoundNic, withDns: boolean, plan: NetworkPlan): string[] {
  const lines = [`    ${q(nic.name)}:`, '      match:', `        macaddress: ${q(nic.mac)}`];
  if (nic.mtu !== null) lines.push(`      mtu: ${nic.mtu}`);
  lines.push(`      dhcp4: ${nic.dhcp4}`, '      dhcp6: false', `      accept-ra: ${nic.addrconf}`);
  if (nic.addresses.length > 0) lines.push('      addresses:', ...nic.addresses.map((a) => `        - ${q(cidrText(a))}`));
  const routes: string[][] = [];
  if (nic.gateway4) routes.push([`to: ${q('0.0.0.0/0')}`, `via: ${q(nic.gateway4)}`]);
  if (nic.gateway6) routes.push([`to: ${q('::/0')}`, `via: ${q(nic.gateway6)}`]);
  for (const r of nic.routes) routes.push([`to: ${q(cidrText(r.dst))}`, r.via === null ? 'scope: link' : `via: ${q(r.via)}`]);
  if (routes.length > 0) lines.push('      routes:', ...routes.flatMap(([first, second]) => [`        - ${first}`, `          ${second}`]));
  if (withDns && plan.dns) {
    lines.push('      nameservers:', `        addresses: [${plan.dns.servers.map((s) => q(s)).join(', ')}]`);
    if (plan.dns.search.length > 0) lines.push(`        search: [${plan.dns.search.map((s) => q(s)).join(', ')}]`);
  }
  return lines;
}

export function render(plan: NetworkPlan): RenderedFile[] {
  if (plan.interfaces.length === 0) return [];
  const dns = dnsInterface(plan);
  const body = ['network:', '  version: 2', '  ethernets:', ...plan.interfaces.flatMap((nic) => ethernet(nic, nic === dns, plan))];
  return [ownedFile(PATH, `${body.join('\n')}\n`, 0o600, null)];
}
