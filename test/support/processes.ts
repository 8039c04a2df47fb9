import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts a long-running helper and waits (bounded) until its stderr matches `ready`. With
 * `stdinPipe`, its stdin is a pipe from us, so a helper that reads it ends when we do.
 */
export function startUntil(
  file: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 10000,
  options: { env?: NodeJS.ProcessEnv; stdinPipe?: boolean } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} not ready after ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk) => {
      seen += chunk.toString();
      const match = seen.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}: ${seen}`));
    });
  });
}

export function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A socat pty at `device` bridged to a unix socket, as QEMU bridges a guest serial port. */
export async function bridgePty(device: string, socketPath: string): Promise<ChildProcess> {
  const pty = `PTY,raw,echo=0,ignoreeof,link=${device}`;
  return (await startUntil('socat', ['-d', '-d', pty, `UNIX-CONNECT:${socketPath}`], /starting data transfer loop/)).child;
}
