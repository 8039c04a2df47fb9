import type { RootedFiles } from '../guest/context';
import type { Dns, NetworkModel, Nic } from './model';
import { normaliseMac } from './sdc';

/** The guest's network interfaces, and the model bound to them by MAC address. */

export interface Link {
  /** The kernel's name: `eth0`, `ens3`. */
  name: string;
  mac: string;
  /** Backed by a device (`/sys/class/net/NAME/device`), not a bridge, veth or loopback. */
  physical: boolean;
}

/** A NIC of the model with the name the guest's kernel gave it. */
export interface BoundNic extends Nic {
  name: string;
}

/** What the renderers turn into files. */
export interface NetworkPlan {
  interfaces: BoundNic[];
  dns: Dns | null;
}

/** Every interface in the guest's /sys/class/net with a usable MAC address, sorted by name. */
export async function readLinks(files: RootedFiles): Promise<Link[]> {
  const dir = '/sys/class/net';
  const links: Link[] = [];
  for (const name of (await files.list(dir)).sort()) {
    const mac = normaliseMac(((await files.readText(`${dir}/${name}/address`)) ?? '').trim());
    if (mac === null || mac === '00:00:00:00:00:00') continue;
    const physical = (await files.stat(`${dir}/${name}/device`)) !== null;
    links.push({ name, mac, physical });
  }
  return links;
}

/** Gives each NIC its kernel name; a NIC whose MAC no interface has is reported and left out. */
export function bindNetwork(model: NetworkModel, links: Link[]): { plan: NetworkPlan; problems: string[] } {
  const problems: string[] = [];
  if (model.nics === null) {
    const dhcp = links.filter((l) => l.physical);
    const interfaces = dhcp.map((l, i): BoundNic => ({ mac: l.mac, name: l.name, label: l.name, addresses: [], dhcp4: true, addrconf: false, mtu: null, primary: i === 0, gateway4: null, gateway6: null, routes: [] }));
    return { plan: { interfaces, dns: model.dns }, problems };
  }
  const interfaces: BoundNic[] = [];
  for (const nic of model.nics) {
    const candidates = links.filter((l) => l.mac === nic.mac);
    const link = candidates.find((l) => l.physical) ?? candidates[0];
    if (!link) problems.push(`${nic.label}: no interface has MAC ${nic.mac}; NIC not configured`);
    else interfaces.push({ ...nic, name: link.name });
  }
  return { plan: { interfaces, dns: model.dns }, problems };
}

/** The interface that carries the resolvers: the primary, else the first. */
export function dnsInterface(plan: NetworkPlan): BoundNic | undefined {
  return plan.interfaces.find((i) => i.primary) ?? plan.interfaces[0];
}
