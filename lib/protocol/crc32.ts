// The IEEE CRC-32 of zlib, by table. node:zlib would do, but loading it costs the tools start-up time.
const TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 of bytes (or of an ASCII string's characters), as an unsigned number. */
export function crc32(data: Uint8Array | string): number {
  let crc = 0xffffffff;
  if (typeof data === 'string') for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  else for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of an ASCII frame body, as 8 lower-case hex digits. */
export function crc32Hex(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}
