import { crc32Hex } from './crc32';
import { decodeBase64Strict, encodeBase64 } from './base64';

interface V2Frame {
  reqid: string;
  code: string;
  /** Decoded payload; null when the frame carries none. */
  payload: Buffer | null;
}

/** The frame line around a body, including the trailing LF. */
export function frameLine(body: string): string {
  return `V2 ${body.length} ${crc32Hex(body)} ${body}\n`;
}

/** Encode one frame line. An empty payload is left out with its space. */
export function encodeFrame(reqid: string, code: string, payload?: string | Buffer | null): string {
  const b64 = payload == null || payload.length === 0 ? '' : encodeBase64(payload);
  return frameLine(b64 ? `${reqid} ${code} ${b64}` : `${reqid} ${code}`);
}

/** PUT payload: base64(key) SP base64(value), which the frame encodes again. */
function encodePutPayload(key: string, value: Buffer | string): string {
  return `${encodeBase64(key)} ${encodeBase64(value)}`;
}

export function encodeRequest(code: 'GET' | 'KEYS' | 'PUT' | 'DELETE', reqid: string, key?: string, value?: Buffer | string): string {
  if (code === 'PUT') return encodeFrame(reqid, code, encodePutPayload(key ?? '', value ?? ''));
  return encodeFrame(reqid, code, key);
}

const FRAME = /^V2 ([1-9][0-9]*) ([0-9a-f]{8}) ([0-9a-f]+) ([^ ]+)(?: (.+))?$/;

/**
 * Parse a response frame line (without its LF) the way a careful client does:
 * exact length, exact lower-case CRC, strict base64. Returns null for anything invalid.
 */
export function parseFrame(line: string): V2Frame | null {
  const m = FRAME.exec(line);
  if (!m) return null;
  const body = line.slice(line.indexOf(' ', line.indexOf(' ', 3) + 1) + 1);
  if (body.length !== Number(m[1]) || crc32Hex(body) !== m[2]) return null;
  if (m[5] === undefined) return { reqid: m[3], code: m[4], payload: null };
  const payload = decodeBase64Strict(m[5]);
  return payload ? { reqid: m[3], code: m[4], payload } : null;
}
