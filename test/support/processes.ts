import { spawn, type ChildProcess } from 'node:child_process';
import { withTimeLimit } from '../../lib/time-limit';

/** What `startUntil` keeps of a helper's stderr; the rest is only counted. */
const STDERR_KEPT = 1024 * 1024;

interface StartedHelper {
  child: ChildProcess;
  match: RegExpMatchArray;
  /** Its stderr so far (the first MiB), after the ready line too unless `readStderr` was false. */
  stderr: () => string;
  /** How many bytes of stderr it wrote so far, kept or not. */
  stderrBytes: () => number;
}

/**
 * Starts a long-running helper and waits (bounded) until its stderr matches `ready`. With
 * `stdinPipe`, its stdin is a pipe from us, so a helper that reads it ends when we do. With
 * `readStderr: false` its stderr is no longer read once it is ready, as when nobody reads a log pipe.
 */
export function startUntil(
  file: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 10000,
  options: { env?: NodeJS.ProcessEnv; stdinPipe?: boolean; cwd?: string; readStderr?: boolean } = {},
): Promise<StartedHelper> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let seen = '';
    let bytes = 0;
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} not ready after ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (seen.length < STDERR_KEPT) seen += chunk.toString();
      if (started) return;
      const match = seen.match(ready);
      if (!match) return;
      started = true;
      clearTimeout(timer);
      if (options.readStderr === false) child.stderr!.pause();
      resolve({ child, match, stderr: () => seen, stderrBytes: () => bytes });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}: ${seen}`));
    });
  });
}

/** How long a process may take to go after SIGKILL (it may be stuck in the kernel, in D state). */
const KILLED_EXIT_MS = 10_000;

/**
 * Stops `child`: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited, and rejects
 * when it has not exited `KILLED_EXIT_MS` after the SIGKILL.
 */
export function stop(child: ChildProcess | undefined, graceMs = 3000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve) => {
    timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const limitMs = graceMs + KILLED_EXIT_MS;
  return withTimeLimit(exited, limitMs, () => {
    throw new Error(`process ${child.pid} (${child.spawnfile}) did not exit within ${limitMs} ms of SIGTERM (SIGKILL after ${graceMs} ms)`);
  }).finally(() => clearTimeout(timer));
}

/** A socat pty at `device` bridged to a unix socket, as QEMU bridges a guest serial port. */
export async function bridgePty(device: string, socketPath: string): Promise<ChildProcess> {
  const pty = `PTY,raw,echo=0,ignoreeof,link=${device}`;
  return (await startUntil('socat', ['-d', '-d', pty, `UNIX-CONNECT:${socketPath}`], /starting data transfer loop/)).child;
}
