import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { writeFileAtomic } from '../../lib/fs/atomic-write';
import type { CommandResult, GuestContext, RunOptions, WriteOptions } from '../../lib/guest/context';

/**
 * A small, real GuestContext for action tests until the guest framework's own one is used: files
 * under a temp prefix root through the project's atomic write, commands from a given PATH (where
 * tests put recording stubs), metadata from a map, the log kept in memory.
 */
export interface TestContext extends GuestContext {
  lines: { level: 'info' | 'warn' | 'error'; message: string }[];
  /** Every command run, as `name arg...`. */
  ran: string[];
}

export function testContext(root: string, metadata: Record<string, string | null>, options: { dryRun?: boolean; path?: string } = {}): TestContext {
  const lines: TestContext['lines'] = [];
  const ran: string[] = [];
  const host = (p: string) => join(root, p);
  const dryRun = options.dryRun === true;
  const searchPath = options.path ?? '';
  const readOr = async (p: string) => readFile(host(p)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  const which = (name: string) => {
    for (const dir of searchPath.split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not in this folder
      }
    }
    return null;
  };
  return {
    root,
    dryRun,
    deadline: Date.now() + 60_000,
    lines,
    ran,
    log: {
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
      error: (message) => lines.push({ level: 'error', message }),
    },
    metadata: { get: (key) => metadata[key] ?? null },
    files: {
      hostPath: host,
      read: readOr,
      readText: async (p) => (await readOr(p))?.toString('utf8') ?? null,
      async write(p: string, data: string | Buffer, opts: WriteOptions = {}) {
        const old = await readOr(p);
        const mode = (await lstat(host(p)).catch(() => null))?.mode;
        const sameMode = opts.mode === undefined || (mode !== undefined && (mode & 0o7777) === opts.mode);
        if (old !== null && old.equals(Buffer.from(data)) && sameMode) return false;
        if (dryRun) {
          lines.push({ level: 'info', message: `would write ${p}` });
          return true;
        }
        await mkdir(dirname(host(p)), { recursive: true });
        await writeFileAtomic(host(p), data, { mode: opts.mode, durable: false });
        return true;
      },
      async remove(p: string) {
        if ((await readOr(p)) === null) return false;
        if (dryRun) lines.push({ level: 'info', message: `would remove ${p}` });
        else await unlink(host(p));
        return true;
      },
      mkdir: async (p, mode) => void (await mkdir(host(p), { recursive: true, mode })),
    },
    commands: {
      which,
      run(name: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
        ran.push([name, ...args].join(' '));
        const path = which(name);
        if (path === null) return Promise.resolve({ code: 127, stdout: '', stderr: `${name}: not found` });
        return new Promise((resolve) => {
          execFile(path, args, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 1 << 20, env: { PATH: searchPath } }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          });
        });
      },
    },
  };
}
