import { cidrText, type Family } from '../ip';
import { dnsInterface, type BoundNic, type NetworkPlan } from '../links';
import { addressesOf, ipRouteArgs, ownedFile, routesOf, safeName, type OwnedFiles, type RenderedFile } from './files';

/**
 * ifupdown (interfaces(5)): one file per NIC in /etc/network/interfaces.d, named by run-parts
 * rules so that both `source` and `source-directory` read it. Each static address is its own
 * stanza (ifupdown runs every stanza of an interface in order); the default gateway goes on the
 * first stanza of its family, and routes on the last, so that their gateway is reachable by then.
 * ifupdown has no route or dhcp-mtu option, so those are `ip` commands in up/down lines.
 */

export const DIR = '/etc/network/interfaces.d';
export const OWNED: OwnedFiles = { dir: DIR, name: /^50-sdc-[A-Za-z0-9_-]+$/ };

interface Stanza {
  head: string;
  options: string[];
}

function familyStanzas(nic: BoundNic, family: Family): Stanza[] {
  const inet = family === 4 ? 'inet' : 'inet6';
  const stanzas: Stanza[] = addressesOf(nic, family).map((a) => ({ head: `iface ${nic.name} ${inet} static`, options: [`address ${cidrText(a)}`] }));
  const gateway = family === 4 ? nic.gateway4 : nic.gateway6;
  if (gateway) stanzas[0].options.push(`gateway ${gateway}`);
  if (family === 4 && nic.dhcp4) stanzas.push({ head: `iface ${nic.name} inet dhcp`, options: [] });
  if (family === 6 && nic.addrconf) {
    if (stanzas.length > 0) stanzas[0].options.push('accept_ra 1', 'autoconf 1');
    else stanzas.push({ head: `iface ${nic.name} inet6 auto`, options: [] });
  }
  const routes = routesOf(nic, family);
  if (routes.length > 0) {
    const last = stanzas[stanzas.length - 1];
    for (const r of routes) last.options.push(`up ip route add ${ipRouteArgs(nic, r)}`);
    for (const r of routes) last.options.push(`down ip route del ${ipRouteArgs(nic, r)}`);
  }
  return stanzas;
}

function interfaceFile(nic: BoundNic, withDns: boolean, plan: NetworkPlan): string {
  const stanzas = [...familyStanzas(nic, 4), ...familyStanzas(nic, 6)];
  const first = stanzas[0].options;
  if (nic.mtu !== null) first.unshift(`pre-up ip link set dev ${nic.name} mtu ${nic.mtu}`);
  if (withDns && plan.dns) {
    first.push(`dns-nameservers ${plan.dns.servers.join(' ')}`);
    if (plan.dns.search.length > 0) first.push(`dns-search ${plan.dns.search.join(' ')}`);
  }
  const text = stanzas.map((s) => [s.head, ...s.options.map((o) => `    ${o}`)].join('\n'));
  return `auto ${nic.name}\n${text.join('\n\n')}\n`;
}

function fileName(nic: BoundNic): string {
  return `${DIR}/50-sdc-${safeName(nic.name)}`;
}

export function render(plan: NetworkPlan): RenderedFile[] {
  const dns = dnsInterface(plan);
  return plan.interfaces.map((nic) => ownedFile(fileName(nic), interfaceFile(nic, nic === dns, plan), 0o644, nic.name));
}

/** Folder of the main file: relative `source` paths are read from there. */
export const INTERFACES = '/etc/network/interfaces';

function globRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** Whether `interfaces` text reads the file at `path` through `source` or `source-directory`. */
export function sources(interfacesText: string, path: string): boolean {
  const absolute = (p: string) => (p.startsWith('/') ? p : `/etc/network/${p}`);
  for (const line of interfacesText.split('\n')) {
    const m = /^\s*(source|source-directory)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const target = absolute(m[2]).replace(/\/+$/, '');
    if (m[1] === 'source' && globRegExp(target).test(path)) return true;
    if (m[1] === 'source-directory' && path === `${target}/${path.split('/').pop()}`) return true;
  }
  return false;
}

/** The interfaces that `iface` stanzas of this text define. */
export function definedInterfaces(text: string): string[] {
  return [...text.matchAll(/^\s*iface\s+(\S+)\s/gm)].map((m) => m[1]);
}
