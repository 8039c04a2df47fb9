// Builds lib/native/fcntl-lock.c into dist/native/fcntl-lock-<platform>-<arch>.node with gcc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './common';

function main(): void {
  if (process.platform !== 'linux') {
    console.log(`native: skipped on ${process.platform} (fcntl-lock is built on Linux only)`);
    return;
  }
  const rel = join('dist', 'native', `fcntl-lock-${process.platform}-${process.arch}.node`);
  const out = join(root, rel);
  const tmp = `${out}.${process.pid}.tmp`;
  mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  // Relative paths, a prefix map and no debug info keep the output independent of the checkout folder.
  const args = [
    '-std=c11', '-Wall', '-Wextra', '-O2', '-fPIC', '-shared', '-s', '-fvisibility=hidden',
    `-ffile-prefix-map=${root}=.`,
    '-I', join('node_modules', 'node-api-headers', 'include'),
    '-o', tmp,
    join('lib', 'native', 'fcntl-lock.c'),
  ];
  try {
    execFileSync('gcc', args, { cwd: root, stdio: 'inherit' });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('gcc not found; install it (apt-get install gcc) to build the fcntl-lock addon');
    }
    throw err;
  }
  console.log(`native: ${rel}`);
}

try {
  main();
} catch (err) {
  console.error(`native: ${(err as Error).message}`);
  process.exit(1);
}
