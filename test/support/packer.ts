// Runs build/package.ts on small fake executables, and the archive tools used as oracles.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { VERSION } from '../../lib/version';
import { dirname, join } from 'node:path';
import { RUNTIME_FILES } from '../../build/layout';

export const ROOT = join(__dirname, '..', '..');
const EPOCH = 1700000000;

export interface PackerRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Temp folders of one test file, removed together at its end. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sdc-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic, poorly compressible bytes. */
export function fakeBytes(seed: string, size: number): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0, n = 0; n < size; i++, n += 32) chunks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(chunks).subarray(0, size);
}

/** A dist/ folder with what the layout needs: the two executables, a few hundred KB each, the launcher and the runtime's files. */
export function fakeDist(temp: TempDirs): string {
  const dist = temp.make('dist');
  mkdirSync(join(dist, 'linux-x64'));
  mkdirSync(join(dist, 'win-x64'));
  writeFileSync(join(dist, 'linux-x64', 'sdc-guest'), fakeBytes('linux', 300_000), { mode: 0o755 });
  writeFileSync(join(dist, 'win-x64', 'mdata-get.exe'), fakeBytes('win', 200_000), { mode: 0o755 });
  mkdirSync(join(dist, 'linux-x64-runtime'));
  writeFileSync(join(dist, 'linux-x64-runtime', 'sdc-guest'), fakeBytes('launcher', 30_000), { mode: 0o755 });
  for (const file of RUNTIME_FILES) {
    mkdirSync(dirname(join(dist, 'linux-x64-runtime', 'runtime', file)), { recursive: true });
    writeFileSync(join(dist, 'linux-x64-runtime', 'runtime', file), fakeBytes(file, 1000));
  }
  return dist;
}

export function runPacker(args: string[], env: Record<string, string> = {}): PackerRun {
  const result = spawnSync(process.execPath, ['-r', 'tsm', join(ROOT, 'build', 'package.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The archive with this extension in `out`, named sdc-vm-tools-<package.json version>-<commit>.<ext>. */
export function archive(out: string, ext: 'iso' | 'zip' | 'tar.gz'): string {
  const pattern = new RegExp(`^sdc-vm-tools-${VERSION.replace(/\./g, '\\.')}-[0-9a-f]{7,}\\.${ext.replace('.', '\\.')}$`);
  const names = readdirSync(out).filter((name) => pattern.test(name));
  if (names.length !== 1) throw new Error(`expected one ${pattern} in ${out}, found: ${readdirSync(out).join(', ')}`);
  return join(out, names[0]);
}

/** Runs an oracle tool; throws with its stderr when it fails. */
export function tool(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  return execFileSync(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 60_000, maxBuffer: 64 << 20 }).toString();
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
