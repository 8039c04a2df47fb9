/** ISO 9660 constants and byte encoders shared by the writer and the reader. */

export const SECTOR = 2048;
/** Blocks 0-15 are the system area; volume descriptors start here. */
export const FIRST_DESCRIPTOR_LBA = 16;
export const MAX_FILE_SIZE = 0xffffffff;
/** Joliet allows 64 UCS-2 characters; we follow the common "joliet-long" convention. */
export const MAX_JOLIET_NAME = 103;
export const MAX_RR_NAME_BYTES = 255;

export const DESCRIPTOR_PRIMARY = 1;
export const DESCRIPTOR_SUPPLEMENTARY = 2;
export const DESCRIPTOR_TERMINATOR = 255;
export const JOLIET_ESCAPES = ['%/@', '%/C', '%/E'];

export const FLAG_DIRECTORY = 0x02;
export const FLAG_MULTI_EXTENT = 0x80;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export function blocks(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}

export function putBoth16(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16LE(value, offset);
  buf.writeUInt16BE(value, offset + 2);
}

export function putBoth32(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value, offset);
  buf.writeUInt32BE(value, offset + 4);
}

export function both32(value: number): Buffer {
  const buf = Buffer.alloc(8);
  putBoth32(buf, 0, value);
  return buf;
}

/** 7-byte directory record date, UTC. */
export function recordDate(date: Date): Buffer {
  return Buffer.from([
    date.getUTCFullYear() - 1900, date.getUTCMonth() + 1, date.getUTCDate(),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), 0,
  ]);
}

/** 17-byte volume descriptor date "YYYYMMDDHHMMSScc" + zone, UTC; null gives the "not specified" value. */
export function descriptorDate(date: Date | null): Buffer {
  const buf = Buffer.alloc(17);
  const digits = date ? date.toISOString().replace(/\D/g, '').slice(0, 16) : '0'.repeat(16);
  buf.write(digits, 0, 'latin1');
  return buf;
}

export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

export function decodeUcs2(bytes: Buffer): string {
  return Buffer.from(bytes.subarray(0, bytes.length & ~1)).swap16().toString('utf16le');
}
