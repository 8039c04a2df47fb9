import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SOURCE_STAMP, sourceHash } from '../../build/common';

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

const fresh = new Set<string>();

/** Throws unless `dir` (under dist/) was built from the sources as they are now: tests never run a stale build. */
export function assertFreshBuild(dir: string): void {
  if (fresh.has(dir)) return;
  let stamp = '';
  try {
    stamp = readFileSync(join(dir, SOURCE_STAMP), 'utf8').trim();
  } catch {
    // no stamp: not built
  }
  if (stamp !== sourceHash()) throw new Error(`${relative(repoRoot, dir)} is missing or was built from other sources: run \`make build\``);
  fresh.add(dir);
}

export const bundleCommand: ToolCommand = (tool) => {
  assertFreshBuild(join(repoRoot, 'dist', 'node'));
  return { file: process.execPath, args: [join(repoRoot, 'dist', 'node', `${tool}.cjs`)] };
};

/** The standalone Linux executable, by one of its multi-call names. */
export const linuxExecutableCommand: ToolCommand = (tool) => {
  assertFreshBuild(join(repoRoot, 'dist', 'linux-x64'));
  return { file: join(repoRoot, 'dist', 'linux-x64', tool), args: [] };
};

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
