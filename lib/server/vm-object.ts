/**
 * How the host agent resolves keys against a VM object (docs/protocol.md §5), without I/O.
 * Lookups use own properties only, so `constructor` or `__proto__` are ordinary missing keys.
 */
import { own, type Json, type JsonObject } from '../json';
import { buildRoutes } from '../network/sdc';

/** The VM as the agent sees it: the `--vm` object with the metadata file's maps on top. */
export interface VmView {
  vm: JsonObject;
  customer_metadata?: JsonObject;
  internal_metadata?: JsonObject;
  internal_metadata_namespaces?: string[];
}

export type MetadataMap = 'customer_metadata' | 'internal_metadata';

/** The result of a GET: a value to encode, or a FAILURE with a reason. */
type Lookup = { value: Json | undefined } | { failure: string };

function topLevel(view: VmView, key: string): Json | undefined {
  if (key === 'customer_metadata' || key === 'internal_metadata' || key === 'internal_metadata_namespaces') {
    return view[key] ?? own(view.vm, key);
  }
  return own(view.vm, key);
}

/** The internal namespace a key falls in (`docker` for `docker:cmd`), or null. */
export function internalNamespace(view: VmView, key: string): string | null {
  if (!key.includes(':')) return null;
  const prefix = key.split(':')[0];
  return view.internal_metadata_namespaces?.includes(prefix) ? prefix : null;
}

/** Which map a plain (non-`sdc:`) key is read from. */
function mapForGet(view: VmView, key: string): MetadataMap {
  return key.endsWith('_pw') || internalNamespace(view, key) !== null ? 'internal_metadata' : 'customer_metadata';
}

/** Which map a PUT or DELETE writes: `operator-script` goes to internal metadata, as in the agent. */
export function mapForUpdate(key: string): MetadataMap {
  return key.endsWith('_pw') || key === 'operator-script' ? 'internal_metadata' : 'customer_metadata';
}

/** GET of a trimmed, non-empty key. */
export function lookup(view: VmView, key: string): Lookup {
  if (key.startsWith('sdc:')) return { value: sdcValue(view, key.slice(4)) };
  const map = mapForGet(view, key);
  const values = view[map];
  if (!values) return { failure: `Zone did not contain ${map}` };
  return { value: own(values, key) };
}

function sdcValue(view: VmView, k: string): Json | undefined {
  const { vm } = view;
  if (k === 'nics' || k === 'resolvers' || k === 'tmpfs') {
    const value = own(vm, k);
    if (value !== undefined) return JSON.stringify(value);
  }
  if (k === 'routes' && own(vm, 'routes') !== undefined) return JSON.stringify(buildRoutes(vm));
  if (k === 'operator-script') return own(topLevel(view, 'internal_metadata'), 'operator-script');
  if (k === 'volumes') return own(topLevel(view, 'internal_metadata'), 'sdc:volumes');
  if (k.startsWith('tags.')) return own(own(vm, 'tags'), k.slice(5));
  return flatten(view, k);
}

const THREE_TOKEN_ROOTS = ['disks', 'nics', 'pci_devices'];
const TWO_TOKEN_MAPS = ['customer_metadata', 'routes', 'tags'];
const TWO_TOKEN_ARRAYS = ['internal_metadata_namespaces', 'resolvers'];

/**
 * VM.flatten. Deliberate difference: `internal_metadata.<x>` is not served, so internal
 * metadata does not leak through `sdc:`. Missing intermediate objects give NOTFOUND.
 */
function flatten(view: VmView, k: string): Json | undefined {
  const tokens = k.split('.');
  const [a, b, c] = tokens;
  if (tokens.length === 3 && THREE_TOKEN_ROOTS.includes(a)) return own(own(topLevel(view, a), b), c);
  if (tokens.length === 2 && a === 'internal_metadata') return undefined;
  if (tokens.length === 2 && TWO_TOKEN_MAPS.includes(a)) return own(topLevel(view, a), b);
  if (tokens.length === 2 && TWO_TOKEN_ARRAYS.includes(a)) {
    const list = topLevel(view, a);
    return Array.isArray(list) && /^\d+$/.test(b) ? own(list, Number(b)) : undefined;
  }
  return topLevel(view, k);
}

/** KEYS: visible customer keys, then internal `_pw` and namespaced keys. */
export function listKeys(view: VmView): string[] {
  const internal = (key: string) => key.endsWith('_pw') || internalNamespace(view, key) !== null;
  const customerKeys = Object.keys(view.customer_metadata ?? {}).filter((key) => !internal(key));
  const internalKeys = Object.keys(view.internal_metadata ?? {}).filter(internal);
  return customerKeys.concat(internalKeys);
}

/**
 * How a value is answered. Strings, numbers and booleans are values; undefined is NOTFOUND.
 * Deliberate differences from the agent: null is a FAILURE (the agent crashes), and every array or
 * object is a FAILURE (the agent turns `[]` and `[5]` into values).
 */
export function encodeValue(value: Json | undefined): { value: string } | 'notfound' | 'failure' {
  if (value === undefined) return 'notfound';
  if (typeof value === 'string') return { value };
  if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
  return 'failure';
}
