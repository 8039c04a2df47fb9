import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** True when something, even a dangling link, is at `path`. */
export function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

interface ListingOptions {
  /** Paths under the folder to leave out, with or without a leading `/`; a folder left out goes whole. */
  exclude?: readonly string[];
  /** Begin with a line `.` for the folder itself: its mode and owner. */
  withDir?: boolean;
}

/**
 * Every path under `dir`, one line each, sorted: type, mode, owner, and the link target or the
 * content's sha256. Two listings are equal exactly when the trees are; a failed comparison shows
 * which paths differ.
 */
export function treeListing(dir: string, options: ListingOptions = {}): string {
  const exclude = new Set((options.exclude ?? []).map((path) => path.replace(/^\/+|\/+$/g, '')));
  const lines: string[] = [];
  const head = (path: string, st: Stats) => `${path} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid}`;
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (exclude.has(path)) continue;
      const st = lstatSync(join(dir, path));
      if (st.isSymbolicLink()) lines.push(`${head(path, st)} link -> ${readlinkSync(join(dir, path))}`);
      else if (st.isDirectory()) {
        lines.push(`${head(path, st)} dir`);
        walk(path);
      } else if (st.isFile()) lines.push(`${head(path, st)} file ${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')}`);
      else lines.push(`${head(path, st)} other`);
    }
  };
  if (options.withDir) lines.push(`${head('.', lstatSync(dir))} dir`);
  walk('');
  return `${lines.join('\n')}\n`;
}
