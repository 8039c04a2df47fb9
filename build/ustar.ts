/**
 * A small POSIX ustar writer, gzipped with node:zlib. 7-Zip's tar writer (7zip-bin's 7za 16.02)
 * cannot be used: it stores every entry as mode 0777, a symlink as a regular file holding the
 * target, and a hard link as a second full copy (docs/packaging.md).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { replaceFileFrom } from '../lib/fs/atomic-write';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export type TarEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; source: string }
  | { path: string; type: 'symlink'; target: string }
  /** A second name for the file stored earlier at `target` (an archive path). */
  | { path: string; type: 'hardlink'; mode: number; target: string };

const BLOCK = 512;
const MAX_SIZE = 8 ** 11 - 1;
const TYPE_FLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5' } as const;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a path over ustar's name (100 bytes) and prefix (155 bytes) fields. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut > 0; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`${path}: too long for a ustar name (100 bytes, or a 155-byte folder prefix + 100)`);
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const { name, prefix } = splitName(path);
  const linkName = entry.type === 'symlink' || entry.type === 'hardlink' ? entry.target : '';
  if (Buffer.byteLength(linkName) > 100) throw new Error(`${entry.path}: link target over 100 bytes: ${linkName}`);
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0);
  buf.write(octal(mode & 0o7777, 8), 100);
  buf.write(octal(0, 8), 108);
  buf.write(octal(0, 8), 116);
  buf.write(octal(size, 12), 124);
  buf.write(octal(mtime, 12), 136);
  buf.write(' '.repeat(8), 148);
  buf.write(TYPE_FLAG[entry.type], 156);
  buf.write(linkName, 157);
  buf.write('ustar\x0000', 257, 'latin1');
  buf.write('root', 265);
  buf.write('root', 297);
  buf.write(octal(0, 8), 329);
  buf.write(octal(0, 8), 337);
  buf.write(prefix, 345);
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return buf;
}

async function* tarStream(entries: TarEntry[], mtime: number): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.type !== 'file') {
      yield header(entry, 0, mtime);
      continue;
    }
    const size = (await stat(entry.source)).size;
    if (size > MAX_SIZE) throw new Error(`${entry.path}: ${size} bytes is over the ustar limit of 8 GiB - 1`);
    yield header(entry, size, mtime);
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      written += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (written !== size) throw new Error(`${entry.source} changed size while being archived`);
    if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** Writes entries, in the given order, as a .tar.gz at outPath (via a temp file renamed into place). */
export async function writeTarGz(outPath: string, entries: TarEntry[], mtime: Date): Promise<void> {
  const tar = Readable.from(tarStream(entries, Math.floor(mtime.getTime() / 1000)));
  await replaceFileFrom(outPath, (tmp) => pipeline(tar, createGzip({ level: 6 }), createWriteStream(tmp)), { mode: 0o644, durable: false });
}
