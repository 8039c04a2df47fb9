import { createReadStream } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import { replaceFile } from '../fs/atomic-write';
import {
  DESCRIPTOR_PRIMARY, DESCRIPTOR_SUPPLEMENTARY, DESCRIPTOR_TERMINATOR, FIRST_DESCRIPTOR_LBA, FLAG_DIRECTORY,
  MAX_FILE_SIZE, MAX_JOLIET_NAME, MAX_RR_NAME_BYTES, SECTOR, S_IFDIR, S_IFLNK, S_IFREG,
  blocks, both32, descriptorDate, encodeUcs2, putBoth16, putBoth32, recordDate,
} from './format';

export type IsoWriteEntry =
  | { path: string; type: 'file'; source: string | Buffer; mode?: number }
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  /** A second name for the file at `target` (an archive path): same extent, data stored once. */
  | { path: string; type: 'hardlink'; target: string };

interface WriteIsoOptions {
  /** Up to 32 printable ASCII characters (16 are kept in the Joliet descriptor). */
  volumeId: string;
  applicationId?: string;
  /** Used for every timestamp in the image. */
  mtime: Date;
}

interface FileData {
  path: string;
  source: string | Buffer;
  mode: number;
  size: number;
  links: number;
  lba: number;
}

interface Node {
  name: string;
  kind: 'dir' | 'file' | 'symlink';
  parent: Node | null;
  mode: number;
  children: Map<string, Node>;
  data?: FileData;
  target?: string;
  isoId: string;
  jolietId: Buffer;
}

/** One directory tree as seen through the primary (Rock Ridge) or the Joliet descriptor. */
interface TreeView {
  joliet: boolean;
  /** Path table order: breadth first, children sorted. */
  dirs: Node[];
  children: Map<Node, Node[]>;
  number: Map<Node, number>;
  lba: Map<Node, number>;
  size: Map<Node, number>;
  pathTableL: number;
  pathTableM: number;
}

type RecordKind = 'self' | 'parent' | 'child';

const CE_LENGTH = 28;

/** Write an ISO 9660 image with Joliet and Rock Ridge to outPath (via a temp file renamed into place). */
export async function writeIso(outPath: string, entries: IsoWriteEntry[], options: WriteIsoOptions): Promise<void> {
  checkText('volumeId', options.volumeId, 32);
  checkText('applicationId', options.applicationId ?? '', 128);
  const { root, files } = buildTree(entries);
  for (const data of files) {
    data.size = typeof data.source === 'string' ? await sourceSize(data.source) : data.source.length;
    if (data.size > MAX_FILE_SIZE) {
      throw new Error(`${data.path}: ${data.size} bytes is over the ISO 9660 limit of 4 GiB - 1 per file (multi-extent files are not supported)`);
    }
  }
  const metadata = layout(root, files, options);
  await replaceFile(
    outPath,
    async (out) => {
      await writeAll(out, metadata);
      for (const data of files) await writeFileData(out, data);
    },
    { mode: 0o644, durable: false },
  );
}

function checkText(field: string, value: string, max: number): void {
  if (!/^[\x20-\x7e]*$/.test(value) || value.length > max) {
    throw new Error(`${field} must be at most ${max} printable ASCII characters: '${value}'`);
  }
}

async function sourceSize(source: string): Promise<number> {
  const info = await stat(source);
  if (!info.isFile()) throw new Error(`${source}: not a regular file`);
  return info.size;
}

function newNode(name: string, kind: Node['kind'], parent: Node | null): Node {
  const node: Node = { name, kind, parent, mode: 0o755, children: new Map(), isoId: '', jolietId: Buffer.alloc(0) };
  parent?.children.set(name, node);
  return node;
}

function buildTree(entries: IsoWriteEntry[]): { root: Node; files: FileData[] } {
  const root = newNode('', 'dir', null);
  const files: FileData[] = [];
  const seen = new Set<string>();
  const splitPath = (path: string): string[] => {
    const parts = path.replace(/^\/+|\/+$/g, '').split('/');
    if (parts.some((part) => part === '' || part === '.' || part === '..')) throw new Error(`invalid ISO path: '${path}'`);
    return parts;
  };
  const lookup = (parts: string[], create: boolean, path: string): Node | undefined => {
    let node = root;
    for (const part of parts) {
      const next = node.children.get(part) ?? (create ? newNode(part, 'dir', node) : undefined);
      if (!next) return undefined;
      if (create && next.kind !== 'dir') throw new Error(`${path}: '${part}' is not a directory`);
      node = next;
    }
    return node;
  };
  const ordered = [...entries.filter((e) => e.type !== 'hardlink'), ...entries.filter((e) => e.type === 'hardlink')];
  for (const entry of ordered) {
    const parts = splitPath(entry.path);
    const key = parts.join('/');
    if (seen.has(key)) throw new Error(`${entry.path}: duplicate path`);
    seen.add(key);
    const name = parts[parts.length - 1];
    const parent = lookup(parts.slice(0, -1), true, entry.path)!;
    const existing = parent.children.get(name);
    if (entry.type === 'dir') {
      const dir = existing ?? newNode(name, 'dir', parent);
      if (dir.kind !== 'dir') throw new Error(`${entry.path}: already added as a ${dir.kind}`);
      dir.mode = (entry.mode ?? 0o755) & 0o7777;
      continue;
    }
    if (existing) throw new Error(`${entry.path}: already added as a ${existing.kind}`);
    if (entry.type === 'file') {
      const data = { path: key, source: entry.source, mode: (entry.mode ?? 0o644) & 0o7777, size: 0, links: 1, lba: 0 };
      newNode(name, 'file', parent).data = data;
      files.push(data);
    } else if (entry.type === 'symlink') {
      if (!entry.target) throw new Error(`${entry.path}: empty symlink target`);
      newNode(name, 'symlink', parent).target = entry.target;
    } else {
      const target = lookup(splitPath(entry.target), false, entry.path);
      if (target?.kind !== 'file') throw new Error(`${entry.path}: hard link target '${entry.target}' is not a file in the image`);
      newNode(name, 'file', parent).data = target.data;
      target.data!.links++;
    }
  }
  assignNames(root);
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { root, files };
}

function pathOf(node: Node): string {
  return node.parent?.parent ? `${pathOf(node.parent)}/${node.name}` : node.name;
}

function assignNames(dir: Node): void {
  const isoUsed = new Set<string>();
  const jolietUsed = new Set<string>();
  for (const kid of [...dir.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (Buffer.byteLength(kid.name) > MAX_RR_NAME_BYTES) throw new Error(`${pathOf(kid)}: name is over ${MAX_RR_NAME_BYTES} bytes`);
    kid.isoId = isoIdentifier(kid.name, kid.kind === 'dir', isoUsed);
    if (kid.kind !== 'symlink') {
      const joliet = kid.name.replace(/[\x00-\x1f*/:;?\\]/g, '_');
      if (joliet.length > MAX_JOLIET_NAME) {
        throw new Error(`${pathOf(kid)}: name has ${joliet.length} characters; Joliet allows at most ${MAX_JOLIET_NAME}`);
      }
      if (jolietUsed.has(joliet)) throw new Error(`${pathOf(kid)}: Joliet name '${joliet}' is already used in this folder`);
      jolietUsed.add(joliet);
      kid.jolietId = encodeUcs2(joliet);
    }
    if (kid.kind === 'dir') assignNames(kid);
  }
}

/** Level 1 name: 8.3 upper-case d-characters, ';1' on files, made unique with a numeric tail. */
function isoIdentifier(name: string, isDir: boolean, used: Set<string>): string {
  const clean = (text: string) => text.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const dot = isDir ? -1 : name.lastIndexOf('.');
  const base = clean(dot > 0 ? name.slice(0, dot) : name).slice(0, 8);
  const ext = isDir ? '' : '.' + (dot > 0 ? clean(name.slice(dot + 1)).slice(0, 3) : '');
  let id = base + ext;
  for (let n = 1; used.has(id); n++) id = base.slice(0, 8 - String(n).length) + n + ext;
  used.add(id);
  return isDir ? id : `${id};1`;
}

/** ECMA-119 9.3 order: name then extension, each padded with spaces. */
function isoSortKey(id: string): string {
  const [name, ext = ''] = id.replace(/;1$/, '').split('.');
  return name.padEnd(8) + ext.padEnd(3);
}

function makeView(root: Node, joliet: boolean): TreeView {
  const view: TreeView = {
    joliet, dirs: [root], children: new Map(), number: new Map(), lba: new Map(), size: new Map(), pathTableL: 0, pathTableM: 0,
  };
  for (let i = 0; i < view.dirs.length; i++) {
    const dir = view.dirs[i];
    view.number.set(dir, i + 1);
    const kids = [...dir.children.values()]
      .filter((kid) => !(joliet && kid.kind === 'symlink'))
      .sort(joliet ? (a, b) => Buffer.compare(a.jolietId, b.jolietId) : (a, b) => (isoSortKey(a.isoId) < isoSortKey(b.isoId) ? -1 : 1));
    view.children.set(dir, kids);
    view.dirs.push(...kids.filter((kid) => kid.kind === 'dir'));
  }
  if (view.dirs.length > 0xffff) throw new Error('too many directories for an ISO 9660 path table (65535)');
  return view;
}

function layout(root: Node, files: FileData[], options: WriteIsoOptions): Buffer {
  const views = [makeView(root, false), makeView(root, true)];
  const pathTableSizes = views.map((view) => pathTable(view, true).length);
  let lba = FIRST_DESCRIPTOR_LBA + 3;
  views.forEach((view, i) => {
    view.pathTableL = lba;
    lba += blocks(pathTableSizes[i]);
    view.pathTableM = lba;
    lba += blocks(pathTableSizes[i]);
  });
  // Record sizes do not depend on locations, so a first pass with zero locations gives every extent size.
  const sizing = new ContinuationAreas(0);
  for (const view of views) for (const dir of view.dirs) view.size.set(dir, directoryExtent(view, dir, options.mtime, sizing).length);
  for (const view of views) {
    for (const dir of view.dirs) {
      view.lba.set(dir, lba);
      lba += view.size.get(dir)! / SECTOR;
    }
  }
  const areas = new ContinuationAreas(lba);
  lba += sizing.blocks;
  for (const data of files) {
    data.lba = data.size > 0 ? lba : 0;
    lba += blocks(data.size);
  }
  const directories = views.flatMap((view) => view.dirs.map((dir) => directoryExtent(view, dir, options.mtime, areas)));
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = DESCRIPTOR_TERMINATOR;
  terminator.write('CD001\x01', 1, 'latin1');
  return Buffer.concat([
    Buffer.alloc(FIRST_DESCRIPTOR_LBA * SECTOR),
    ...views.map((view, i) => volumeDescriptor(view, options, lba, pathTableSizes[i])),
    terminator,
    ...views.flatMap((view) => [padToSector(pathTable(view, true)), padToSector(pathTable(view, false))]),
    ...directories,
    areas.bytes(),
  ]);
}

function padToSector(buf: Buffer): Buffer {
  return Buffer.concat([buf, Buffer.alloc(blocks(buf.length) * SECTOR - buf.length)]);
}

function volumeDescriptor(view: TreeView, options: WriteIsoOptions, totalBlocks: number, pathTableSize: number): Buffer {
  const vd = Buffer.alloc(SECTOR);
  const text = (value: string, offset: number, length: number) => {
    const field = view.joliet ? encodeUcs2(value.padEnd(length >> 1)) : Buffer.from(value.padEnd(length), 'latin1');
    field.copy(vd, offset, 0, length);
  };
  const root = view.dirs[0];
  vd[0] = view.joliet ? DESCRIPTOR_SUPPLEMENTARY : DESCRIPTOR_PRIMARY;
  vd.write('CD001\x01', 1, 'latin1');
  text('', 8, 32);
  text(options.volumeId, 40, 32);
  putBoth32(vd, 80, totalBlocks);
  if (view.joliet) vd.write('%/E', 88, 'latin1');
  putBoth16(vd, 120, 1);
  putBoth16(vd, 124, 1);
  putBoth16(vd, 128, SECTOR);
  putBoth32(vd, 132, pathTableSize);
  vd.writeUInt32LE(view.pathTableL, 140);
  vd.writeUInt32BE(view.pathTableM, 148);
  directoryRecord(Buffer.from([0]), view.lba.get(root)!, view.size.get(root)!, true, options.mtime, Buffer.alloc(0)).copy(vd, 156);
  text('', 190, 128 * 3);
  text(options.applicationId ?? '', 574, 128);
  text('', 702, 37 * 3);
  descriptorDate(options.mtime).copy(vd, 813);
  descriptorDate(options.mtime).copy(vd, 830);
  descriptorDate(null).copy(vd, 847);
  descriptorDate(null).copy(vd, 864);
  vd[881] = 1;
  return vd;
}

function identifier(view: TreeView, node: Node): Buffer {
  return view.joliet ? node.jolietId : Buffer.from(node.isoId, 'latin1');
}

function pathTable(view: TreeView, littleEndian: boolean): Buffer {
  return Buffer.concat(view.dirs.map((dir) => {
    const id = dir.parent ? identifier(view, dir) : Buffer.from([0]);
    const rec = Buffer.alloc(8 + id.length + (id.length % 2));
    const lba = view.lba.get(dir) ?? 0;
    const parent = view.number.get(dir.parent ?? dir)!;
    rec[0] = id.length;
    if (littleEndian) {
      rec.writeUInt32LE(lba, 2);
      rec.writeUInt16LE(parent, 6);
    } else {
      rec.writeUInt32BE(lba, 2);
      rec.writeUInt16BE(parent, 6);
    }
    id.copy(rec, 8);
    return rec;
  }));
}

function directoryExtent(view: TreeView, dir: Node, date: Date, areas: ContinuationAreas): Buffer {
  const records = [
    nodeRecord(view, dir, 'self', date, areas),
    nodeRecord(view, dir.parent ?? dir, 'parent', date, areas),
    ...view.children.get(dir)!.map((kid) => nodeRecord(view, kid, 'child', date, areas)),
  ];
  const out: Buffer[] = [];
  let used = 0;
  for (const rec of records) {
    const left = SECTOR - (used % SECTOR);
    if (rec.length > left) {
      out.push(Buffer.alloc(left));
      used += left;
    }
    out.push(rec);
    used += rec.length;
  }
  out.push(Buffer.alloc(blocks(used) * SECTOR - used));
  return Buffer.concat(out);
}

function nodeRecord(view: TreeView, node: Node, kind: RecordKind, date: Date, areas: ContinuationAreas): Buffer {
  const id = kind === 'self' ? Buffer.from([0]) : kind === 'parent' ? Buffer.from([1]) : identifier(view, node);
  const isDir = node.kind === 'dir';
  const lba = isDir ? view.lba.get(node) ?? 0 : node.data?.lba ?? 0;
  const size = isDir ? view.size.get(node) ?? 0 : node.data?.size ?? 0;
  const room = 254 - 33 - id.length - (id.length % 2 === 0 ? 1 : 0);
  const systemUse = view.joliet ? Buffer.alloc(0) : packSystemUse(rockRidge(node, kind, date), room, areas);
  return directoryRecord(id, lba, size, isDir, date, systemUse);
}

function directoryRecord(id: Buffer, lba: number, size: number, isDir: boolean, date: Date, systemUse: Buffer): Buffer {
  const idPad = id.length % 2 === 0 ? 1 : 0;
  const unpadded = 33 + id.length + idPad + systemUse.length;
  const rec = Buffer.alloc(unpadded + (unpadded % 2));
  rec[0] = rec.length;
  putBoth32(rec, 2, lba);
  putBoth32(rec, 10, size);
  recordDate(date).copy(rec, 18);
  rec[25] = isDir ? FLAG_DIRECTORY : 0;
  putBoth16(rec, 28, 1);
  rec[32] = id.length;
  id.copy(rec, 33);
  systemUse.copy(rec, 33 + id.length + idPad);
  return rec;
}

/** Byte allocator for Rock Ridge continuation areas; an area never crosses a sector. */
class ContinuationAreas {
  private readonly chunks: Buffer[] = [];
  private used = 0;

  constructor(private readonly startLba: number) {}

  add(area: Buffer): { lba: number; offset: number } {
    const left = SECTOR - (this.used % SECTOR);
    if (area.length > left) {
      this.chunks.push(Buffer.alloc(left));
      this.used += left;
    }
    const at = { lba: this.startLba + Math.floor(this.used / SECTOR), offset: this.used % SECTOR };
    this.chunks.push(area);
    this.used += area.length;
    return at;
  }

  get blocks(): number {
    return blocks(this.used);
  }

  bytes(): Buffer {
    return padToSector(Buffer.concat(this.chunks));
  }
}

/** Entries that fit stay in the record; the rest go to (chained) continuation areas via CE. */
function packSystemUse(entries: Buffer[], room: number, areas: ContinuationAreas): Buffer {
  if (entries.reduce((sum, entry) => sum + entry.length, 0) <= room) return Buffer.concat(entries);
  let fit = 0;
  for (let used = 0; used + entries[fit].length + CE_LENGTH <= room; fit++) used += entries[fit].length;
  const area = packSystemUse(entries.slice(fit), SECTOR, areas);
  const at = areas.add(area);
  const ce = suspEntry('CE', Buffer.concat([both32(at.lba), both32(at.offset), both32(area.length)]));
  return Buffer.concat([...entries.slice(0, fit), ce]);
}

function suspEntry(signature: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(signature, 'latin1'), Buffer.from([4 + body.length, 1]), body]);
}

const SP_ENTRY = suspEntry('SP', Buffer.from([0xbe, 0xef, 0]));
const ER_ENTRY = (() => {
  const id = 'RRIP_1991A';
  const descriptor = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
  const source = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';
  const header = Buffer.from([id.length, descriptor.length, source.length, 1]);
  return suspEntry('ER', Buffer.concat([header, Buffer.from(id + descriptor + source, 'latin1')]));
})();

function rockRidge(node: Node, kind: RecordKind, date: Date): Buffer[] {
  const isRootSelf = kind === 'self' && !node.parent;
  const posix = Buffer.alloc(32);
  putBoth32(posix, 0, posixMode(node));
  putBoth32(posix, 8, linkCount(node));
  const stamp = recordDate(date);
  const entries = [suspEntry('PX', posix), suspEntry('TF', Buffer.concat([Buffer.from([0x0e]), stamp, stamp, stamp]))];
  if (kind === 'child') entries.push(...nameEntries(node.name));
  if (kind === 'child' && node.target) entries.push(...symlinkEntries(node.target));
  return isRootSelf ? [SP_ENTRY, ...entries, ER_ENTRY] : entries;
}

function posixMode(node: Node): number {
  if (node.kind === 'dir') return S_IFDIR | node.mode;
  if (node.kind === 'symlink') return S_IFLNK | 0o777;
  return S_IFREG | node.data!.mode;
}

function linkCount(node: Node): number {
  if (node.kind === 'dir') return 2 + [...node.children.values()].filter((kid) => kid.kind === 'dir').length;
  return node.data?.links ?? 1;
}

function nameEntries(name: string): Buffer[] {
  const bytes = Buffer.from(name);
  const entries: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 250) {
    const more = at + 250 < bytes.length ? 1 : 0;
    entries.push(suspEntry('NM', Buffer.concat([Buffer.from([more]), bytes.subarray(at, at + 250)])));
  }
  return entries;
}

function symlinkEntries(target: string): Buffer[] {
  const components: Buffer[] = target.startsWith('/') ? [Buffer.from([0x08, 0])] : [];
  for (const part of target.split('/').filter(Boolean)) {
    if (part === '.' || part === '..') {
      components.push(Buffer.from([part === '.' ? 0x02 : 0x04, 0]));
      continue;
    }
    const bytes = Buffer.from(part);
    for (let at = 0; at < bytes.length; at += 200) {
      const piece = bytes.subarray(at, at + 200);
      components.push(Buffer.concat([Buffer.from([at + 200 < bytes.length ? 0x01 : 0, piece.length]), piece]));
    }
  }
  const groups: Buffer[][] = [[]];
  let size = 0;
  for (const component of components) {
    if (size + component.length > 250) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(component);
    size += component.length;
  }
  return groups.map((group, i) => suspEntry('SL', Buffer.concat([Buffer.from([i < groups.length - 1 ? 1 : 0]), ...group])));
}

async function writeAll(out: FileHandle, buf: Buffer): Promise<void> {
  for (let done = 0; done < buf.length;) done += (await out.write(buf, done)).bytesWritten;
}

async function writeFileData(out: FileHandle, data: FileData): Promise<void> {
  if (typeof data.source !== 'string') {
    await writeAll(out, data.source);
  } else {
    let copied = 0;
    for await (const chunk of createReadStream(data.source, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      copied += chunk.length;
      if (copied > data.size) break;
      await writeAll(out, chunk);
    }
    if (copied !== data.size) throw new Error(`${data.source}: size changed while writing the ISO`);
  }
  await writeAll(out, Buffer.alloc(blocks(data.size) * SECTOR - data.size));
}
