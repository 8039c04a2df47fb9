import { cpSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_LIBRARIES } from '../../build/layout';
import { LOADER } from '../../lib/install/runtime-names';
import { assertFreshBuild, repoRoot } from './run-tool';

/**
 * Gives a prefix root Debian 12's glibc and libstdc++ (the build's runtime files, which are
 * Debian's), laid out as Debian does: the libraries in (usr/)lib/x86_64-linux-gnu and the loader
 * link in (usr/)lib64, absolute. `usrMerged`: the root's lib and lib64 are links into usr (made
 * here when missing). With it, the installer runs the executable directly there.
 */
export function addGlibc(root: string, usrMerged: boolean): void {
  const runtime = join(repoRoot, 'dist', 'linux-x64-runtime');
  assertFreshBuild(runtime);
  const prefix = usrMerged ? 'usr' : '';
  const libs = join(root, prefix, 'lib', 'x86_64-linux-gnu');
  mkdirSync(libs, { recursive: true });
  for (const lib of RUNTIME_LIBRARIES) cpSync(join(runtime, 'runtime', lib), join(libs, lib));
  mkdirSync(join(root, prefix, 'lib64'), { recursive: true });
  if (usrMerged) for (const dir of ['lib', 'lib64']) if (!lstatSync(join(root, dir), { throwIfNoEntry: false })) symlinkSync(`usr/${dir}`, join(root, dir));
  symlinkSync(`/lib/x86_64-linux-gnu/${LOADER}`, join(root, prefix, 'lib64', LOADER));
}
