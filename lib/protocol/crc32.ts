import { crc32 } from 'node:zlib';

/** CRC-32 (IEEE, as zlib) of an ASCII frame body, as 8 lower-case hex digits. */
export function crc32Hex(body: string): string {
  return crc32(Buffer.from(body, 'latin1')).toString(16).padStart(8, '0');
}
