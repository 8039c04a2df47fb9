import { cidrText, type Family } from '../ip';
import type { BoundNic } from '../links';
import { withMarker } from '../marker';

/** What every renderer returns: whole files, each carrying the ownership header. */
export interface RenderedFile {
  /** Absolute guest path. */
  path: string;
  content: string;
  mode: number;
  /** The interface the file configures (null: several, or none), for reloading only what changed. */
  interface: string | null;
  /** Written only where nothing else manages it, so one we did not write is replaced, not left alone. */
  replacesForeign?: boolean;
}

/** Where a renderer's files live, so files it wrote earlier and no longer writes can be removed. */
export interface OwnedFiles {
  dir: string;
  name: RegExp;
}

export function ownedFile(path: string, body: string, mode: number, iface: string | null): RenderedFile {
  return { path, content: withMarker(body), mode, interface: iface };
}

/** The NIC's static addresses of one family. */
export function addressesOf(nic: BoundNic, family: Family): BoundNic['addresses'] {
  return nic.addresses.filter((a) => a.family === family);
}

/** A route as `ip route add` takes it, after the verb. */
export function ipRouteArgs(nic: BoundNic, r: BoundNic['routes'][number]): string {
  return `${cidrText(r.dst)}${r.via === null ? ` dev ${nic.name} scope link` : ` via ${r.via} dev ${nic.name}`}`;
}

export function routesOf(nic: BoundNic, family: Family): BoundNic['routes'] {
  return nic.routes.filter((r) => r.dst.family === family);
}

/** A file name part from an interface name: letters, digits, `_` and `-` (run-parts rules). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
