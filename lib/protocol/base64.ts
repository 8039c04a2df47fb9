const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeBase64(data: string | Buffer): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64');
}

/** Strict RFC 4648 decoding: standard alphabet, padded, no whitespace. Returns null when invalid. */
export function decodeBase64Strict(text: string): Buffer | null {
  return STRICT.test(text) ? Buffer.from(text, 'base64') : null;
}

/** The host agent's decoding: invalid characters skipped, padding optional, never fails. */
export function decodeBase64Lenient(text: string): Buffer {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}
