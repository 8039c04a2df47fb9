import { ok, skipped, type GuestAction } from '../action';
import type { GuestContext } from '../context';
import { chooseHostname, HOSTNAME_KEYS, isHostLabel } from '../hostname';

/** A host name of RFC 1123 labels: letters, digits and inner hyphens, 1-63 each, 253 in all. */
export function isValidHostname(name: string): boolean {
  return name.length <= 253 && name.split('.').every(isHostLabel);
}

/** The loopback line we keep for the host name, as Debian does. */
const OWN_ADDRESS = '127.0.1.1';

function names(line: string): string[] {
  return line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
}

/**
 * /etc/hosts with `name` on a loopback line. Unchanged when a loopback line (127.x, ::1) already
 * names it as a whole word. Otherwise the 127.0.1.1 line is ours: it is rewritten to name it (and
 * its short form), or added. Every other line is kept as it is.
 */
export function hostsWithName(hosts: string, name: string): string {
  const lines = hosts === '' ? [] : hosts.replace(/\n$/, '').split('\n');
  const loopback = (fields: string[]) => fields[0] !== undefined && (fields[0].startsWith('127.') || fields[0] === '::1');
  if (lines.some((l) => loopback(names(l)) && names(l).slice(1).includes(name))) return hosts;
  const short = name.split('.')[0];
  const entry = `${OWN_ADDRESS}\t${short === name ? name : `${name} ${short}`}`;
  const own = lines.findIndex((l) => names(l)[0] === OWN_ADDRESS);
  if (own === -1) lines.push(entry);
  else lines[own] = entry;
  return `${lines.join('\n')}\n`;
}

async function applyToKernel(ctx: GuestContext, name: string): Promise<string> {
  if (ctx.commands.which('hostnamectl')) {
    const r = await ctx.commands.run('hostnamectl', ['set-hostname', name], { live: true, timeoutMs: 20_000 });
    if (r.skipped) return 'not applied: the root is not the running system';
    if (r.code === 0) return 'hostnamectl';
    ctx.log.warn(`hostnamectl exited ${r.code}: ${r.stderr.trim()}; trying hostname`);
  }
  if (!ctx.commands.which('hostname')) return 'no hostname command';
  const r = await ctx.commands.run('hostname', [name], { live: true });
  if (r.skipped) return 'not applied: the root is not the running system';
  if (r.code !== 0) throw new Error(`hostname exited ${r.code}: ${r.stderr.trim()}`);
  return 'hostname';
}

export const setHostname: GuestAction = {
  name: 'set-hostname',
  summary: 'Set the host name from hostname, else sdc:hostname, else sdc:uuid; persist it in /etc/hostname and keep /etc/hosts consistent.',
  keys: HOSTNAME_KEYS,
  once: false,
  leftToCloudInit: true,
  async run(ctx) {
    const chosen = chooseHostname(ctx, 'a valid host name', (value) => (isValidHostname(value) ? value : null));
    if (chosen === null) return skipped('no valid host name in hostname, sdc:hostname or sdc:uuid');
    const { name } = chosen;
    const changed = await ctx.files.write('/etc/hostname', `${name}\n`, { mode: 0o644 });
    const hosts = (await ctx.files.readText('/etc/hosts')) ?? '127.0.0.1\tlocalhost\n';
    const hostsChanged = await ctx.files.write('/etc/hosts', hostsWithName(hosts, name));
    const how = await applyToKernel(ctx, name);
    return ok(`${name} (${changed ? '/etc/hostname written' : '/etc/hostname unchanged'}, ${hostsChanged ? '/etc/hosts updated' : '/etc/hosts unchanged'}, ${how})`);
  },
};
