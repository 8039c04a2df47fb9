import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LAYOUT } from '../../build/layout';
import { assertFreshBuild, repoRoot } from './run-tool';

/** The release archives' linux/ folder, laid out under `dest` from dist/ as build/layout.ts says (no packing); returns its path. */
export function stageArchiveLinux(dest: string): string {
  for (const dir of ['linux-x64', 'linux-x64-runtime']) assertFreshBuild(join(repoRoot, 'dist', dir));
  for (const entry of LAYOUT.filter((e) => e.path.startsWith('linux/'))) {
    const path = join(dest, entry.path);
    mkdirSync(dirname(path), { recursive: true });
    if ('symlink' in entry) symlinkSync(entry.symlink, path);
    else if ('source' in entry) copyFileSync(join(repoRoot, entry.source), path);
    else if ('built' in entry) copyFileSync(join(repoRoot, 'dist', entry.built), path);
    if ('mode' in entry) chmodSync(path, entry.mode);
  }
  return join(dest, 'linux');
}
