// Host commands the VM harness runs (mmdebstrap, mount, mke2fs, debugfs, sfdisk), each bounded in
// time and output.
import { spawn } from 'node:child_process';

const OUTPUT_LIMIT = 16 * 1024 * 1024;

interface CommandResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

interface CommandOptions {
  limitMs?: number;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
}

/** Runs a command to its end (SIGTERM at the limit, SIGKILL 5 s later); throws with its stderr unless it exits 0. */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const limitMs = options.limitMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes <= OUTPUT_LIMIT) out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-64 * 1024);
    });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, limitMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      const result = { code, stdout: Buffer.concat(out), stderr: err };
      if (outBytes > OUTPUT_LIMIT) return reject(new Error(`${file} printed more than ${OUTPUT_LIMIT} bytes`));
      if (code === 0 || (options.allowFailure && code !== null)) return resolve(result);
      const why = code === null ? `was killed (${signal}) after ${limitMs} ms at most` : `exited ${code}`;
      reject(new Error(`${file} ${args.join(' ')} ${why}:\n${err.slice(-4000)}`));
    });
  });
}

/** `rm -rf` that stays on one filesystem, so a mount left inside a guest root never reaches the host's files. */
export async function removeTree(path: string): Promise<void> {
  await runCommand('rm', ['-rf', '--one-file-system', '--', path], { limitMs: 120_000 });
}

/** Is `file` on PATH? */
export async function haveCommand(file: string): Promise<boolean> {
  const r = await runCommand('sh', ['-c', 'command -v "$0"', file], { allowFailure: true });
  return r.code === 0;
}
