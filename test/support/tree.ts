import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every path under `dir`, one line each, sorted: type, mode, owner, and the link target or the
 * content's sha256. Two listings are equal exactly when the trees are; a failed comparison shows
 * which paths differ.
 */
export function treeListing(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const head = `${path} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) lines.push(`${head} link -> ${readlinkSync(join(dir, path))}`);
      else if (st.isDirectory()) {
        lines.push(`${head} dir`);
        walk(path);
      } else if (st.isFile()) lines.push(`${head} file ${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')}`);
      else lines.push(`${head} other`);
    }
  };
  walk('');
  return `${lines.join('\n')}\n`;
}
