import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let tempCounter = 0;

/**
 * Replace `path` with `text` atomically: write a temp file in the same directory, fsync it,
 * rename it over the target, then fsync the directory. A crash leaves the old or the new file.
 */
export async function writeFileAtomic(path: string, text: string, mode: number, warn: (message: string) => void): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    const file = await open(temp, 'w', mode);
    try {
      await file.chmod(mode); // open's mode is narrowed by the umask
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  // The new file is in place: a failing directory fsync is only reported, not a failed write.
  try {
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    warn(`fsync of ${dir} failed: ${(err as Error).message}`);
  }
}

/** Runs async tasks one after another, so writes to one file never interleave. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
