import { closeSync, openSync, readSync } from 'node:fs';

/**
 * What the dynamic loader needs to know about an x86-64 ELF file: its interpreter, the libraries
 * it needs, the symbol versions it needs from each, and the versions it defines (a library).
 * Only the parts named by the program headers are read, so a 100 MB executable costs a few reads.
 */
export interface ElfDynamic {
  /** PT_INTERP, e.g. `/lib64/ld-linux-x86-64.so.2`; null for a library or a static program. */
  interpreter: string | null;
  soname: string | null;
  needed: string[];
  /** Symbol versions needed, by the soname of the library that must define them (DT_VERNEED). */
  versionNeeds: Record<string, string[]>;
  /** Symbol versions this object defines (DT_VERDEF), without its base name. */
  versionDefs: string[];
}

export class ElfError extends Error {}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_VERDEF = 0x6ffffffc;
const DT_VERDEFNUM = 0x6ffffffd;
const DT_VERNEED = 0x6ffffffe;
const DT_VERNEEDNUM = 0x6fffffff;
const VER_FLG_BASE = 1;
const EM_X86_64 = 62;
/** Bounds that no real file reaches; a file past them is refused, not followed. */
const MAX_ENTRIES = 100_000;
const MAX_STRING = 4096;
const MAX_PROGRAM_HEADERS_BYTES = 64 * 1024;

type Read = (offset: number, length: number) => Buffer;

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Reads an ELF file (a path) or image (bytes). Throws ElfError for anything but a sound x86-64 ELF. */
export function readElfDynamic(source: string | Uint8Array): ElfDynamic {
  if (typeof source !== 'string') return parse(bufferReader(Buffer.from(source.buffer, source.byteOffset, source.byteLength)), source);
  const fd = openSync(source, 'r');
  try {
    return parse(fileReader(fd), source);
  } finally {
    closeSync(fd);
  }
}

function bufferReader(bytes: Buffer): Read {
  return (offset, length) => bytes.subarray(offset, offset + length);
}

function fileReader(fd: number): Read {
  return (offset, length) => {
    const buf = Buffer.alloc(length);
    return buf.subarray(0, readSync(fd, buf, 0, length, offset));
  };
}

function parse(read: Read, source: string | Uint8Array): ElfDynamic {
  const name = typeof source === 'string' ? source : 'ELF image';
  const fail = (why: string): never => {
    throw new ElfError(`${name}: ${why}`);
  };
  const exact = (offset: number, length: number): Buffer => {
    const buf = read(offset, length);
    if (buf.length !== length) fail(`truncated at byte ${offset}`);
    return buf;
  };

  const ehdr = read(0, 64);
  if (ehdr.length < 64 || ehdr.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (ehdr[4] !== 2 || ehdr[5] !== 1 || ehdr.readUInt16LE(18) !== EM_X86_64) fail('not a 64-bit little-endian x86-64 ELF file');
  const phoff = Number(ehdr.readBigUInt64LE(32));
  const phentsize = ehdr.readUInt16LE(54);
  const phnum = ehdr.readUInt16LE(56);
  if (phentsize < 56) fail('bad program header size');
  if (phentsize * phnum > MAX_PROGRAM_HEADERS_BYTES) fail(`program header table of ${phentsize * phnum} bytes`);

  const segments: Segment[] = [];
  const table = exact(phoff, phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    segments.push({
      type: table.readUInt32LE(at),
      offset: Number(table.readBigUInt64LE(at + 8)),
      vaddr: Number(table.readBigUInt64LE(at + 16)),
      filesz: Number(table.readBigUInt64LE(at + 32)),
    });
  }

  const cString = (offset: number): string => {
    let text = '';
    for (let at = offset; text.length < MAX_STRING; at += 256) {
      const chunk = read(at, 256);
      const end = chunk.indexOf(0);
      text += chunk.subarray(0, end < 0 ? chunk.length : end).toString('latin1');
      if (end >= 0) return text;
      if (chunk.length < 256) break;
    }
    return fail(`unterminated string at byte ${offset}`);
  };
  const fileOffset = (vaddr: number): number => {
    const load = segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    return load ? load.offset + (vaddr - load.vaddr) : fail(`address 0x${vaddr.toString(16)} is in no loaded segment`);
  };

  const interp = segments.find((s) => s.type === PT_INTERP);
  const result: ElfDynamic = { interpreter: interp ? cString(interp.offset) : null, soname: null, needed: [], versionNeeds: {}, versionDefs: [] };
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return result;

  const tags = new Map<number, number>();
  const neededOffsets: number[] = [];
  if (dynamic.filesz > MAX_ENTRIES * 16) fail(`dynamic section of ${dynamic.filesz} bytes`);
  const entries = exact(dynamic.offset, dynamic.filesz);
  for (let at = 0; at + 16 <= entries.length; at += 16) {
    const tag = Number(entries.readBigInt64LE(at));
    const value = Number(entries.readBigUInt64LE(at + 8));
    if (tag === 0) break;
    if (tag === DT_NEEDED) neededOffsets.push(value);
    else tags.set(tag, value);
  }
  const strtab = tags.get(DT_STRTAB);
  if (strtab === undefined) return fail('dynamic section without a string table');
  const strings = fileOffset(strtab);
  const str = (offset: number) => cString(strings + offset);
  result.needed = neededOffsets.map(str);
  if (tags.has(DT_SONAME)) result.soname = str(tags.get(DT_SONAME)!);

  const count = (tag: number): number => {
    const n = tags.get(tag) ?? 0;
    return n <= MAX_ENTRIES ? n : fail(`${n} version entries`);
  };
  // All version records together, so that nested counts cannot multiply past the bound.
  let records = 0;
  const record = (): void => {
    if (++records > MAX_ENTRIES) fail(`more than ${MAX_ENTRIES} version records`);
  };
  if (tags.has(DT_VERNEED)) {
    let at = fileOffset(tags.get(DT_VERNEED)!);
    for (let i = 0, n = count(DT_VERNEEDNUM); i < n; i++) {
      record();
      const need = exact(at, 16);
      const versions: string[] = [];
      let aux = at + need.readUInt32LE(8);
      for (let j = 0, m = need.readUInt16LE(2); j < m; j++) {
        record();
        const entry = exact(aux, 16);
        versions.push(str(entry.readUInt32LE(8)));
        aux += entry.readUInt32LE(12);
      }
      const file = str(need.readUInt32LE(4));
      result.versionNeeds[file] = [...(result.versionNeeds[file] ?? []), ...versions];
      const next = need.readUInt32LE(12);
      if (next === 0) break;
      at += next;
    }
  }
  if (tags.has(DT_VERDEF)) {
    let at = fileOffset(tags.get(DT_VERDEF)!);
    for (let i = 0, n = count(DT_VERDEFNUM); i < n; i++) {
      record();
      const def = exact(at, 20);
      if ((def.readUInt16LE(2) & VER_FLG_BASE) === 0) result.versionDefs.push(str(exact(at + def.readUInt32LE(12), 8).readUInt32LE(0)));
      const next = def.readUInt32LE(16);
      if (next === 0) break;
      at += next;
    }
  }
  return result;
}
