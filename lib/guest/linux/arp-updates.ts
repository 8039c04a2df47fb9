import { failed, ok, skipped, type GuestAction } from '../action';
import type { GuestContext } from '../context';

interface Route {
  dev?: string;
}
interface AddrInfo {
  family?: string;
  local?: string;
}

async function json<T>(ctx: GuestContext, args: string[]): Promise<T | null> {
  const r = await ctx.commands.run('ip', ['-j', ...args], { readOnly: true, live: true });
  if (r.skipped || r.code !== 0) return null;
  try {
    return JSON.parse(r.stdout || '[]') as T;
  } catch {
    throw new Error(`ip -j ${args.join(' ')}: output is not JSON`);
  }
}

/** Gratuitous ARP for the default-route interface's IPv4 addresses, so neighbours learn the new MAC at once. */
export const sendArpUpdates: GuestAction = {
  name: 'send-arp-updates',
  summary: "Send gratuitous ARP for the default-route interface's IPv4 addresses (needs arping).",
  keys: [],
  once: false,
  async run(ctx) {
    if (!ctx.commands.which('arping')) return skipped('arping is not installed (Debian: iputils-arping); no gratuitous ARP sent');
    if (!ctx.commands.which('ip')) return skipped('ip (iproute2) is not installed');
    const routes = await json<Route[]>(ctx, ['route', 'show', 'default']);
    if (routes === null) return skipped('routes not read (the root is not the running system)');
    const dev = routes.find((r) => r.dev)?.dev;
    if (!dev) return skipped('no default route');
    const links = (await json<Array<{ addr_info?: AddrInfo[] }>>(ctx, ['-4', 'addr', 'show', 'dev', dev])) ?? [];
    const addresses = links.flatMap((l) => l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local as string);
    if (addresses.length === 0) return skipped(`no IPv4 address on ${dev}`);
    // iputils arping: -U unsolicited, -A reply mode; both are what neighbours and switches accept.
    const version = await ctx.commands.run('arping', ['-V'], { readOnly: true });
    const iputils = /iputils/i.test(version.stdout + version.stderr);
    // All at once: each arping takes a second (-c 2), and they do not depend on one another.
    const runs = addresses.flatMap((address) => (iputils ? [['-U'], ['-A']].map((m) => [...m, '-c', '2', '-I', dev, address]) : [['-U', '-c', '2', '-i', dev, '-S', address, address]]));
    const results = await Promise.allSettled(runs.map((args) => ctx.commands.run('arping', args, { live: true, timeoutMs: 10_000 })));
    const problems = results.flatMap((r, i) => {
      if (r.status === 'rejected') return [`arping ${runs[i].join(' ')}: ${(r.reason as Error).message}`];
      return r.value.code !== 0 && !r.value.skipped ? [`arping ${runs[i].join(' ')} exited ${r.value.code}`] : [];
    });
    return problems.length ? failed(problems.join('; ')) : ok(`gratuitous ARP for ${addresses.join(', ')} on ${dev}`);
  },
};
