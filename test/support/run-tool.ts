import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: Buffer | string;
  /** Kill the tool after this long; a test that needs this has found a hang. */
  killAfterMs?: number;
  /** Leave stdin open (a pipe whose writer never finishes) instead of writing `input` and closing it. */
  keepStdinOpen?: boolean;
}

/** How to start a tool: the node bundles from `make build`, or the standalone executables. */
export type ToolCommand = (tool: string) => { file: string; args: string[] };

export const repoRoot = join(__dirname, '..', '..');

export const bundleCommand: ToolCommand = (tool) => ({ file: process.execPath, args: [join(repoRoot, 'dist', 'node', `${tool}.cjs`)] });

export function runTool(command: ToolCommand, tool: string, args: string[], options: RunOptions = {}): Promise<ToolResult> {
  const { file, args: prefix } = command(tool);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...prefix, ...args], {
      env: { ...process.env, MDATA_SOCKET: undefined, MDATA_SERIAL: undefined, MDATA_TIMEOUT: undefined, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => (err += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ code, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    if (!options.keepStdinOpen) child.stdin.end(options.input ?? '');
  });
}
