// Builds the C parts of the Linux tools into dist/native/: the fcntl-lock addon (gcc, against the
// system glibc) and the sdc-guest launcher (musl-gcc, static: it must run where no C library is).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileFrom } from '../lib/fs/atomic-write';
import { BOUNDED, root } from './common';

/** The launcher's output, relative to the root; build/runtime.ts puts it in the runtime tree. */
export const LAUNCHER = join('dist', 'native', 'sdc-guest-launcher-linux-x64');

// Relative paths, a prefix map and no debug info keep the outputs independent of the checkout folder.
const COMMON = ['-std=c11', '-Wall', '-Wextra', '-O2', '-s', `-ffile-prefix-map=${root}=.`];

async function compile(compiler: string, pkg: string, args: string[], rel: string): Promise<void> {
  try {
    const run = async (tmp: string) => void execFileSync(compiler, [...COMMON, ...args, '-o', tmp], { ...BOUNDED, cwd: root, stdio: 'inherit' });
    await replaceFileFrom(join(root, rel), run, { mode: 0o755, durable: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${compiler} not found; install it (apt-get install ${pkg})`);
    throw err;
  }
  console.log(`native: ${rel}`);
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log(`native: skipped on ${process.platform} (the addon and the launcher are built on Linux only)`);
    return;
  }
  mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  const addon = ['-fPIC', '-shared', '-fvisibility=hidden', '-I', join('node_modules', 'node-api-headers', 'include'), join('lib', 'native', 'fcntl-lock.c')];
  await compile('gcc', 'gcc', addon, join('dist', 'native', `fcntl-lock-${process.platform}-${process.arch}.node`));
  await compile('musl-gcc', 'musl-tools', ['-static', join('lib', 'native', 'launcher.c')], LAUNCHER);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`native: ${(err as Error).message}`);
    process.exit(1);
  });
}
