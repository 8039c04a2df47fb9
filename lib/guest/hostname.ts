import type { GuestContext } from './context';

/** One DNS label (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters. */
export function isHostLabel(label: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label);
}

/** Where a guest's name comes from, the first with a usable value: `hostname`, else `sdc:hostname`, else `sdc:uuid`. */
export const HOSTNAME_KEYS = ['hostname', 'sdc:hostname', 'sdc:uuid'] as const;

/**
 * The name from the first of HOSTNAME_KEYS whose value (trimmed) `nameFor` turns into one; a value
 * it refuses (null) is skipped with a warning that it is not `what`.
 */
export function chooseHostname(ctx: GuestContext, what: string, nameFor: (value: string) => string | null): { name: string; key: string; value: string } | null {
  for (const key of HOSTNAME_KEYS) {
    const value = ctx.metadata.get(key)?.trim();
    if (!value) continue;
    const name = nameFor(value);
    if (name !== null) return { name, key, value };
    ctx.log.warn(`${key} is not ${what}, skipped: ${JSON.stringify(value.slice(0, 80))}`);
  }
  return null;
}
