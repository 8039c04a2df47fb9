import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json, JsonObject } from '../../lib/json';
import { bindNetwork, type Link, type NetworkPlan } from '../../lib/network/links';
import { parseNetwork, type NetworkMetadata } from '../../lib/network/model';
import type { RenderedFile } from '../../lib/network/renderers/files';
import * as resolvConf from '../../lib/network/renderers/resolv-conf';
import { buildRoutes } from '../../lib/network/sdc';
import { RENDERERS, STACKS, type RendererName } from '../../lib/network/stacks';
import { windowsMac, type WindowsAdapter } from '../../lib/network/windows';

/** The network fixture set (test/fixtures/network/cases.json) as metadata strings, links and plans. */

export const NETWORK_FIXTURES = join(__dirname, '..', 'fixtures', 'network');

export interface NetworkCase {
  name: string;
  about: string;
  metadata: NetworkMetadata;
  links: Link[];
}

const text = (value: Json | undefined): string | null => (value === undefined ? null : JSON.stringify(value));

export function loadCases(): NetworkCase[] {
  const all = JSON.parse(readFileSync(join(NETWORK_FIXTURES, 'cases.json'), 'utf8')) as Record<string, JsonObject>;
  return Object.entries(all).map(([name, c]) => {
    // `vmRoutes` is the VM object's routes map: the host turns it into sdc:routes, as it serves it.
    const routes = c.vmRoutes !== undefined ? buildRoutes({ nics: c.nics, routes: c.vmRoutes }) : c.routes;
    return {
      name,
      about: String(c.about),
      metadata: { nics: text(c.nics), routes: text(routes as Json), resolvers: text(c.resolvers), dnsDomain: typeof c.dnsDomain === 'string' ? c.dnsDomain : null },
      links: c.links as unknown as Link[],
    };
  });
}

export function planOf(c: NetworkCase): { plan: NetworkPlan; problems: string[]; notes: string[] } {
  const parsed = parseNetwork(c.metadata);
  if (!parsed.model) throw new Error(`${c.name}: unusable model`);
  const bound = bindNetwork(parsed.model, c.links);
  return { plan: bound.plan, problems: [...parsed.problems, ...bound.problems], notes: parsed.notes };
}

/** Each renderer's files, and resolv.conf as its own output. */
export const OUTPUTS = [...RENDERERS, 'resolv-conf'] as const;
type OutputName = (typeof OUTPUTS)[number];

export function renderOutput(name: OutputName, plan: NetworkPlan): RenderedFile[] {
  return name === 'resolv-conf' ? resolvConf.render(plan.dns) : STACKS[name as RendererName].render(plan);
}

/** A case's interfaces as Windows reports fresh adapters: DHCP, router discovery, MTU 1500, nothing set by hand. */
export function freshAdapters(c: NetworkCase): WindowsAdapter[] {
  return c.links.map((l, i) => ({
    mac: windowsMac(l.mac),
    index: 11 + i,
    name: l.physical ? `Ethernet ${i + 1}` : `vEthernet (${l.name})`,
    hardware: l.physical,
    dhcp4: true,
    routerDiscovery: true,
    mtu4: 1500,
    mtu6: 1500,
    addresses: [],
    routes: [],
    dns: ['10.0.2.3', 'fec0:0:0:ffff::1%1', 'fec0:0:0:ffff::2%1'],
    suffix: '',
  }));
}
