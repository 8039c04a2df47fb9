import { spawn } from 'node:child_process';
import { accessSync, constants, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { delimiter, join, posix } from 'node:path';
import { writeFileAtomic } from '../../lib/fs/atomic-write';
import { MetadataUnavailableError, type CommandResult, type GuestContext, type RunOptions } from '../../lib/guest/context';

/**
 * A small, real GuestContext for tests until the project's own lands: a prefix root (symlinks
 * resolved inside it), commands from PATH (stubs first), bounded, recorded, dry-run aware.
 */
export interface TestContext extends GuestContext {
  lines: string[];
  /** Every command run: name and arguments. */
  ran: string[][];
}

/** The host path of a guest path, resolving symlinks as if `root` were `/`. */
export function resolveInRoot(root: string, path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) throw new Error(`${path}: too many symlinks`);
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

export function testContext(root: string, options: { dryRun?: boolean; path?: string; metadata?: Record<string, string> | null } = {}): TestContext {
  const lines: string[] = [];
  const ran: string[][] = [];
  const PATH = options.path ?? process.env.PATH ?? '';
  const log = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  const dryRun = options.dryRun ?? false;
  const hostPath = (path: string) => resolveInRoot(root, posix.normalize(path));
  const ctx: TestContext = {
    root,
    dryRun,
    deadline: Date.now() + 300_000,
    lines,
    ran,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    metadata: {
      get(key) {
        if (options.metadata === null) throw new MetadataUnavailableError('no metadata in this test');
        return options.metadata?.[key] ?? null;
      },
    },
    files: {
      hostPath,
      read: (path) => readFile(hostPath(path)).catch(() => null),
      readText: (path) => readFile(hostPath(path), 'utf8').catch(() => null),
      async write(path, data, opts = {}) {
        const old = await readFile(hostPath(path)).catch(() => null);
        if (old && old.equals(Buffer.from(data))) return false;
        if (dryRun) {
          lines.push(`info: would write ${path}`);
          return true;
        }
        await writeFileAtomic(hostPath(path), data, { mode: opts.mode, owner: opts.owner });
        return true;
      },
      async remove(path) {
        // The last component is not followed: a symlink is removed, not its target.
        const host = join(hostPath(posix.dirname(path)), posix.basename(path));
        const there = lstatSafe(host);
        if (!there) return false;
        if (dryRun) lines.push(`info: would remove ${path}`);
        else await rm(host, { recursive: true, force: true });
        return true;
      },
      async mkdir(path, mode) {
        if (dryRun) return;
        await mkdir(hostPath(path), { recursive: true, mode });
      },
    },
    commands: {
      which(name) {
        for (const dir of PATH.split(delimiter)) {
          try {
            accessSync(join(dir, name), constants.X_OK);
            return join(dir, name);
          } catch {
            // not here
          }
        }
        return null;
      },
      run(name, args, opts: RunOptions = {}) {
        ran.push([name, ...args]);
        if (dryRun && !opts.readOnly) {
          lines.push(`info: would run: ${[name, ...args].join(' ')}`);
          return Promise.resolve({ code: 0, stdout: '', stderr: '' });
        }
        return runBounded(name, args, PATH, opts);
      },
    },
  };
  return ctx;
}

function lstatSafe(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function runBounded(name: string, args: string[], PATH: string, opts: RunOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(name, args, { env: { ...process.env, PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const limit = 1 << 20;
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString()).slice(-limit)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-limit)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
