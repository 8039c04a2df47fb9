export function encodeBase64(data: string | Buffer): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64');
}

// One character class, no repeated group: linear, and no backtracking stack on megabytes.
const ALPHABET_THEN_PADDING = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict RFC 4648 decoding: standard alphabet, padded, no whitespace. Returns null when invalid. */
export function decodeBase64Strict(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !ALPHABET_THEN_PADDING.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** The host agent's decoding: invalid characters skipped, padding optional, never fails. */
export function decodeBase64Lenient(text: string): Buffer {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}
