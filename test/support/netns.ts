import { spawnSync } from 'node:child_process';
import { cidrText } from '../../lib/network/ip';
import type { Link, NetworkPlan } from '../../lib/network/links';

/**
 * Private network namespaces for applying configurations for real: `unshare` gives the script its
 * own network, mount and PID namespaces (so every process it starts dies with it), and veth pairs
 * carry the fixture MACs (dummy interfaces would not take them as real links here).
 */

/** Whether this machine lets us make namespaces (root, no seccomp in the way). */
export function netnsAvailable(): string | null {
  const r = spawnSync('unshare', ['-n', '-m', '-p', '-f', '--mount-proc', 'ip', 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? null : `cannot make a network namespace with veth links: ${r.stderr.trim() || r.error?.message}`;
}

/** The shell lines that make each link a veth with its MAC, its peer up. */
export function vethLines(links: Link[]): string[] {
  return links.flatMap((l, i) => [`ip link add ${l.name} address ${l.mac} type veth peer name peer${i}`, `ip link set peer${i} up`]);
}

/** Runs `script` with sh in fresh namespaces; its stdout, or an error with its stderr. */
export function inNetns(script: string, timeoutMs = 60_000): string {
  const r = spawnSync('unshare', ['-n', '-m', '-p', '-f', '--mount-proc', '--kill-child', 'sh', '-euc', script], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`netns script failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** Marks the JSON of `ip -j addr` and `ip -j route` in a script's output. */
export const DUMP = ["echo '@@addr'", 'ip -j addr', "echo '@@route'", 'ip -j -4 route', "echo '@@route6'", 'ip -j -6 route'];

interface IpAddr {
  ifname: string;
  mtu: number;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
  protocol?: string;
  scope?: string;
  type?: string;
}

interface KernelState {
  /** `NAME mtu N` and `NAME ADDR/PREFIX`, sorted. */
  links: string[];
  /** `NAME DST via GW` or `NAME DST link`, without the kernel's own prefix and link-local routes. */
  routes: string[];
}

const fullDst = (dst: string, v6: boolean) => (dst === 'default' ? (v6 ? '::/0' : '0.0.0.0/0') : dst.includes('/') ? dst : `${dst}/${v6 ? 128 : 32}`);

/** What the kernel has for the given interfaces, from the script output around DUMP. */
export function kernelState(output: string, names: string[]): KernelState {
  const part = (tag: string) => JSON.parse(output.split(`@@${tag}\n`)[1].split('\n@@')[0]) as unknown;
  const links: string[] = [];
  for (const a of part('addr') as IpAddr[]) {
    if (!names.includes(a.ifname)) continue;
    links.push(`${a.ifname} mtu ${a.mtu}`);
    for (const i of a.addr_info) if (i.scope === 'global') links.push(`${a.ifname} ${i.local}/${i.prefixlen}`);
  }
  const routes: string[] = [];
  for (const [tag, v6] of [['route', false], ['route6', true]] as const) {
    for (const r of part(tag) as IpRoute[]) {
      if (!names.includes(r.dev) || r.protocol === 'kernel' || (r.type && r.type !== 'unicast')) continue;
      routes.push(`${r.dev} ${fullDst(r.dst, v6)} ${r.gateway ? `via ${r.gateway}` : 'link'}`);
    }
  }
  return { links: links.sort(), routes: routes.sort() };
}

/** The kernel state a plan asks for, for the given interfaces (their dynamic parts left out). */
export function expectedState(plan: NetworkPlan, names: string[]): KernelState {
  const links: string[] = [];
  const routes: string[] = [];
  for (const n of plan.interfaces.filter((i) => names.includes(i.name))) {
    links.push(`${n.name} mtu ${n.mtu ?? 1500}`, ...n.addresses.map((a) => `${n.name} ${cidrText(a)}`));
    if (n.gateway4) routes.push(`${n.name} 0.0.0.0/0 via ${n.gateway4}`);
    if (n.gateway6) routes.push(`${n.name} ::/0 via ${n.gateway6}`);
    for (const r of n.routes) routes.push(`${n.name} ${cidrText(r.dst)} ${r.via === null ? 'link' : `via ${r.via}`}`);
  }
  return { links: links.sort(), routes: routes.sort() };
}
