/** Parsed JSON and own-property access, so `constructor` or `__proto__` read as ordinary missing keys. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function own(obj: Json | undefined, key: string | number): Json | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  return Object.hasOwn(obj, key) ? (obj as Record<string, Json>)[key] : undefined;
}
