import { isIPv4, isIPv6 } from 'node:net';

/** IP addresses and prefixes as the network model keeps them: canonical text, family, prefix length. */

export type Family = 4 | 6;

export interface Cidr {
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, `::` compressed). */
  address: string;
  prefix: number;
  family: Family;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** A canonical address, or null. IPv6 zone ids (`%eth0`) are refused. */
export function parseAddress(text: unknown): { address: string; family: Family } | null {
  if (typeof text !== 'string') return null;
  if (isIPv4(text)) return { address: text, family: 4 };
  if (isIPv6(text) && !text.includes('%')) return { address: new URL(`http://[${text}]/`).hostname.slice(1, -1), family: 6 };
  return null;
}

/** `10.0.0.5/24`, `2001:db8::5/64`; without a prefix, `hostPrefix` decides (null: the prefix is required). */
export function parseCidr(text: unknown, hostPrefix = false): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const ip = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  if (slash < 0) return hostPrefix ? { ...ip, prefix: BITS[ip.family] } : null;
  const digits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(digits) || Number(digits) > BITS[ip.family]) return null;
  return { ...ip, prefix: Number(digits) };
}

/** `255.255.255.0` -> 24; null unless a contiguous IPv4 mask. */
export function netmaskPrefix(text: unknown): number | null {
  const ip = parseAddress(text);
  if (!ip || ip.family !== 4) return null;
  const bits = toBigInt(ip.address, 4).toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return null;
  const zero = bits.indexOf('0');
  return zero < 0 ? 32 : zero;
}

export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}

function toBigInt(address: string, family: Family): bigint {
  if (family === 4) return address.split('.').reduce((n, octet) => (n << 8n) | BigInt(octet), 0n);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = toBigInt(v4[1], 4);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === null ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function mask(prefix: number, family: Family): bigint {
  const bits = BITS[family];
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** True when no bit beyond the prefix is set (a network, not a host in it). */
export function isNetwork(c: Cidr): boolean {
  return (toBigInt(c.address, c.family) & ~mask(c.prefix, c.family)) === 0n;
}

/** True when `address` (canonical, same family) lies in the subnet of `c`. */
export function contains(c: Cidr, address: string, family: Family): boolean {
  if (family !== c.family) return false;
  const m = mask(c.prefix, c.family);
  return (toBigInt(address, family) & m) === (toBigInt(c.address, c.family) & m);
}

export function isLinkLocal6(address: string): boolean {
  return contains({ address: 'fe80::', prefix: 10, family: 6 }, address, 6);
}
