import { cidrText } from '../ip';
import { dnsInterface, type BoundNic, type NetworkPlan } from '../links';
import { ownedFile, safeName, type OwnedFiles, type RenderedFile } from './files';

/** systemd-networkd: one `.network` per NIC, matched by MAC, ordered before distribution defaults. */

const DIR = '/etc/systemd/network';
export const OWNED: OwnedFiles = { dir: DIR, name: /^10-sdc-[A-Za-z0-9_-]+\.network$/ };

function networkFile(nic: BoundNic, withDns: boolean, plan: NetworkPlan): string {
  const lines = ['[Match]', `MACAddress=${nic.mac}`, 'Type=ether', ''];
  if (nic.mtu !== null) lines.push('[Link]', `MTUBytes=${nic.mtu}`, '');
  lines.push('[Network]', `DHCP=${nic.dhcp4 ? 'ipv4' : 'no'}`, `IPv6AcceptRA=${nic.addrconf ? 'yes' : 'no'}`);
  for (const a of nic.addresses) lines.push(`Address=${cidrText(a)}`);
  for (const g of [nic.gateway4, nic.gateway6]) if (g) lines.push(`Gateway=${g}`);
  if (withDns && plan.dns) {
    for (const s of plan.dns.servers) lines.push(`DNS=${s}`);
    if (plan.dns.search.length > 0) lines.push(`Domains=${plan.dns.search.join(' ')}`);
  }
  for (const r of nic.routes) {
    lines.push('', '[Route]', `Destination=${cidrText(r.dst)}`);
    lines.push(r.via === null ? 'Scope=link' : `Gateway=${r.via}`);
  }
  return `${lines.join('\n')}\n`;
}

export function render(plan: NetworkPlan): RenderedFile[] {
  const dns = dnsInterface(plan);
  return plan.interfaces.map((nic) => ownedFile(`${DIR}/10-sdc-${safeName(nic.name)}.network`, networkFile(nic, nic === dns, plan), 0o644, nic.name));
}
