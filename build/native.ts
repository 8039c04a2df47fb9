// Builds lib/native/fcntl-lock.c into dist/native/fcntl-lock-<platform>-<arch>.node with gcc.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileFrom } from '../lib/fs/atomic-write';
import { root } from './common';

async function main(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log(`native: skipped on ${process.platform} (fcntl-lock is built on Linux only)`);
    return;
  }
  const rel = join('dist', 'native', `fcntl-lock-${process.platform}-${process.arch}.node`);
  const out = join(root, rel);
  mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  // Relative paths, a prefix map and no debug info keep the output independent of the checkout folder.
  const args = [
    '-std=c11', '-Wall', '-Wextra', '-O2', '-fPIC', '-shared', '-s', '-fvisibility=hidden',
    `-ffile-prefix-map=${root}=.`,
    '-I', join('node_modules', 'node-api-headers', 'include'),
    join('lib', 'native', 'fcntl-lock.c'),
  ];
  try {
    await replaceFileFrom(out, async (tmp) => void execFileSync('gcc', [...args, '-o', tmp], { cwd: root, stdio: 'inherit' }), { mode: 0o755, durable: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('gcc not found; install it (apt-get install gcc) to build the fcntl-lock addon');
    }
    throw err;
  }
  console.log(`native: ${rel}`);
}

main().catch((err) => {
  console.error(`native: ${(err as Error).message}`);
  process.exit(1);
});
