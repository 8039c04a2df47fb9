import { open, type FileHandle } from 'node:fs/promises';
import {
  DESCRIPTOR_PRIMARY, DESCRIPTOR_SUPPLEMENTARY, DESCRIPTOR_TERMINATOR, FIRST_DESCRIPTOR_LBA, FLAG_DIRECTORY,
  FLAG_MULTI_EXTENT, JOLIET_ESCAPES, SECTOR, S_IFDIR, S_IFLNK, S_IFMT, decodeUcs2,
} from './format';

/** Which directory tree names come from. */
type IsoNames = 'joliet' | 'rockridge' | 'iso9660';

interface IsoExtent {
  lba: number;
  length: number;
}

interface IsoEntry {
  /** Relative path with '/' separators, no leading slash. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  /** Permission bits, from Rock Ridge only. */
  mode?: number;
  /** Symlink target, from Rock Ridge only. */
  target?: string;
  /** Several when the file is stored in sections (multi-extent). */
  extents: IsoExtent[];
}

interface RockRidgeInfo {
  name?: string;
  mode?: number;
  target?: string;
  childLba?: number;
  relocated: boolean;
}

const CHUNK = 1 << 20;

/** Open an ISO 9660 image. Names come from Joliet if present, else Rock Ridge, else plain ISO 9660, unless `names` says. */
export async function openIso(path: string, options: { names?: IsoNames } = {}): Promise<IsoImage> {
  const handle = await open(path, 'r');
  try {
    const image = new IsoImage(handle);
    await image.load(options.names);
    return image;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

class IsoImage {
  volumeId = '';
  names: IsoNames = 'iso9660';
  entries: IsoEntry[] = [];
  private readonly byPath = new Map<string, IsoEntry>();
  private suspSkip = 0;

  constructor(private readonly handle: FileHandle) {}

  entry(path: string): IsoEntry | undefined {
    return this.byPath.get(path.replace(/^\/+/, ''));
  }

  async readFile(path: string): Promise<Buffer> {
    const entry = this.fileEntry(path);
    return Buffer.concat(await Promise.all(entry.extents.map((ext) => this.readAt(ext.lba * SECTOR, ext.length))));
  }

  /** Stream a file out to dest, a chunk at a time. */
  async copyFile(path: string, dest: string): Promise<void> {
    const entry = this.fileEntry(path);
    const out = await open(dest, 'w');
    try {
      for (const ext of entry.extents) {
        for (let done = 0; done < ext.length; done += CHUNK) {
          const chunk = await this.readAt(ext.lba * SECTOR + done, Math.min(CHUNK, ext.length - done));
          await out.write(chunk);
        }
      }
    } finally {
      await out.close();
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** @internal */
  async load(names?: IsoNames): Promise<void> {
    let primary: Buffer | undefined;
    let joliet: Buffer | undefined;
    for (let lba = FIRST_DESCRIPTOR_LBA; ; lba++) {
      const vd = await this.readAt(lba * SECTOR, SECTOR);
      if (vd.toString('latin1', 1, 6) !== 'CD001') throw new Error('not an ISO 9660 image (no volume descriptor set)');
      if (vd[0] === DESCRIPTOR_TERMINATOR) break;
      if (vd[0] === DESCRIPTOR_PRIMARY) primary ??= vd;
      if (vd[0] === DESCRIPTOR_SUPPLEMENTARY && JOLIET_ESCAPES.includes(vd.toString('latin1', 88, 91))) joliet ??= vd;
    }
    if (!primary) throw new Error('ISO image has no primary volume descriptor');
    this.volumeId = primary.toString('latin1', 40, 72).trimEnd();
    const primaryRoot = primary.subarray(156, 190);
    const hasRockRidge = await this.detectRockRidge(primaryRoot);
    this.names = names ?? (joliet ? 'joliet' : hasRockRidge ? 'rockridge' : 'iso9660');
    if (this.names === 'joliet' && !joliet) throw new Error('ISO image has no Joliet tree');
    if (this.names === 'rockridge' && !hasRockRidge) throw new Error('ISO image has no Rock Ridge extensions');
    const root = this.names === 'joliet' ? joliet!.subarray(156, 190) : primaryRoot;
    await this.walk(root.readUInt32LE(2), root.readUInt32LE(10), '', new Set());
    if (this.names === 'rockridge') {
      // Emptied by skipping relocated (RE) directories, which show up at their CL place instead.
      const isEmptyRrMoved = (e: IsoEntry) => /^rr_moved$/i.test(e.path) && !this.entries.some((c) => c.path.startsWith(`${e.path}/`));
      this.entries = this.entries.filter((e) => !isEmptyRrMoved(e));
    }
    for (const entry of this.entries) this.byPath.set(entry.path, entry);
  }

  private fileEntry(path: string): IsoEntry {
    const entry = this.entry(path);
    if (entry?.type !== 'file') throw new Error(`${path}: no such file in the ISO image`);
    return entry;
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    for (let done = 0; done < length;) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, position + done);
      if (bytesRead === 0) throw new Error(`ISO image is truncated (reading ${length} bytes at ${position})`);
      done += bytesRead;
    }
    return buf;
  }

  /** Rock Ridge is in use when the root's '.' record starts its System Use area with SP. */
  private async detectRockRidge(rootRecord: Buffer): Promise<boolean> {
    const dot = await this.readAt(rootRecord.readUInt32LE(2) * SECTOR, SECTOR);
    const systemUse = dot.subarray(34, dot[0]);
    if (systemUse.toString('latin1', 0, 2) !== 'SP' || systemUse[4] !== 0xbe || systemUse[5] !== 0xef) return false;
    this.suspSkip = systemUse[6];
    return true;
  }

  private async walk(lba: number, length: number, prefix: string, visited: Set<number>): Promise<void> {
    if (visited.has(lba)) throw new Error(`ISO directory loop at block ${lba}`);
    visited.add(lba);
    const data = await this.readAt(lba * SECTOR, length);
    let sections: IsoExtent[] = [];
    for (let pos = 0; pos < data.length;) {
      const recordLength = data[pos];
      if (recordLength === 0) {
        pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
        continue;
      }
      const rec = data.subarray(pos, pos + recordLength);
      pos += recordLength;
      const idLength = rec[32];
      const id = rec.subarray(33, 33 + idLength);
      if (idLength === 1 && id[0] <= 1) continue;
      const flags = rec[25];
      sections.push({ lba: rec.readUInt32LE(2), length: rec.readUInt32LE(10) });
      if (flags & FLAG_MULTI_EXTENT) continue;
      const extents = sections;
      sections = [];

      let name = this.names === 'joliet' ? decodeUcs2(id) : id.toString('latin1');
      name = name.replace(/;\d+$/, '').replace(/\.$/, '');
      let type: IsoEntry['type'] = flags & FLAG_DIRECTORY ? 'dir' : 'file';
      let mode: number | undefined;
      let target: string | undefined;
      if (this.names === 'rockridge') {
        const rr = await this.rockRidge(rec.subarray(33 + idLength + (idLength % 2 === 0 ? 1 : 0) + this.suspSkip));
        if (rr.relocated) continue;
        name = rr.name ?? name;
        if (rr.mode !== undefined) {
          mode = rr.mode & 0o7777;
          if ((rr.mode & S_IFMT) === S_IFLNK) type = 'symlink';
          if ((rr.mode & S_IFMT) === S_IFDIR) type = 'dir';
        }
        target = rr.target;
        if (rr.childLba !== undefined) {
          const dot = await this.readAt(rr.childLba * SECTOR, SECTOR);
          extents[0] = { lba: rr.childLba, length: dot.readUInt32LE(10) };
          type = 'dir';
        }
      }
      const path = prefix ? `${prefix}/${name}` : name;
      const size = type === 'file' ? extents.reduce((sum, ext) => sum + ext.length, 0) : 0;
      this.entries.push({ path, type, size, ...(mode !== undefined && { mode }), ...(target !== undefined && { target }), extents });
      if (type === 'dir') await this.walk(extents[0].lba, extents[0].length, path, visited);
    }
  }

  /** Parse SUSP entries, following CE continuation areas. */
  private async rockRidge(systemUse: Buffer): Promise<RockRidgeInfo> {
    const info: RockRidgeInfo = { relocated: false };
    const nameParts: Buffer[] = [];
    const targetParts: Buffer[] = [];
    let needSlash = false;
    const areas = [systemUse];
    for (let i = 0; i < areas.length && i < 64; i++) {
      const area = areas[i];
      for (let pos = 0; pos + 4 <= area.length;) {
        const signature = area.toString('latin1', pos, pos + 2);
        const entry = area.subarray(pos, pos + area[pos + 2]);
        if (entry.length < 4) break;
        pos += entry.length;
        if (signature === 'ST') break;
        if (signature === 'CE') {
          areas.push(await this.readAt(entry.readUInt32LE(4) * SECTOR + entry.readUInt32LE(12), entry.readUInt32LE(20)));
        } else if (signature === 'NM' && !(entry[4] & 0x06)) {
          nameParts.push(entry.subarray(5));
        } else if (signature === 'PX') {
          info.mode = entry.readUInt32LE(4);
        } else if (signature === 'CL') {
          info.childLba = entry.readUInt32LE(4);
        } else if (signature === 'RE') {
          info.relocated = true;
        } else if (signature === 'SL') {
          for (let at = 5; at + 2 <= entry.length; at += 2 + entry[at + 1]) {
            const flags = entry[at];
            if (needSlash) targetParts.push(Buffer.from('/'));
            needSlash = !(flags & 0x01) && !(flags & 0x08);
            if (flags & 0x08) targetParts.push(Buffer.from('/'));
            else if (flags & 0x02) targetParts.push(Buffer.from('.'));
            else if (flags & 0x04) targetParts.push(Buffer.from('..'));
            else targetParts.push(entry.subarray(at + 2, at + 2 + entry[at + 1]));
          }
        }
      }
    }
    if (nameParts.length) info.name = Buffer.concat(nameParts).toString('utf8');
    if (targetParts.length) info.target = Buffer.concat(targetParts).toString('utf8');
    return info;
  }
}
