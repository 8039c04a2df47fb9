import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './run-tool';

interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A wine prefix for running the Windows executables. Node under wine fails on
 * piped stdio, so every wine process here reads and writes files.
 */
export class WinePrefix {
  readonly env: NodeJS.ProcessEnv;
  private readonly io: string;

  constructor(readonly prefix = join(repoRoot, '.cache', 'wine')) {
    this.env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', NODE_OPTIONS: undefined };
    mkdirSync(prefix, { recursive: true });
    this.io = mkdtempSync(join(prefix, '..', 'wine-io-'));
  }

  /** Runs a wine command with stdio on files; kills it after `timeoutMs`. */
  exec(file: string, args: string[], timeoutMs = 60000, extraEnv: NodeJS.ProcessEnv = {}, stdinFile = '/dev/null'): Promise<WineResult> {
    const out = join(this.io, 'stdout');
    const err = join(this.io, 'stderr');
    const fds = [openSync(stdinFile, 'r'), openSync(out, 'w'), openSync(err, 'w')];
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env: { ...this.env, ...extraEnv }, stdio: fds });
      fds.forEach((fd) => closeSync(fd));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') });
      });
    });
  }

  run(exe: string, args: string[], timeoutMs = 60000, extraEnv: NodeJS.ProcessEnv = {}, stdinFile?: string): Promise<WineResult> {
    return this.exec('wine', [exe, ...args], timeoutMs, extraEnv, stdinFile);
  }

  /** Creates the prefix once (Windows 10, which Node 22 requires), then warms up wineserver. */
  async start(): Promise<void> {
    const ready = join(this.prefix, '.sdc-ready');
    if (!existsSync(ready)) {
      await this.check(this.exec('wineboot', ['--init'], 120000), 'wineboot --init');
      await this.check(this.run('winecfg', ['-v', 'win10'], 60000), 'winecfg -v win10');
      writeFileSync(ready, '');
    }
    // A cold wineserver can fail the first COM open.
    await this.exec('wineserver', ['-p', '15'], 30000); // exits 2 when a server already runs: fine
    await this.check(this.run('cmd.exe', ['/c', 'ver'], 60000), 'wine cmd.exe /c ver');
  }

  /** Makes the Windows port COM2 the given tty (a pty from socat). */
  mapCom2(device: string): void {
    const link = join(this.prefix, 'dosdevices', 'com2');
    rmSync(link, { force: true });
    symlinkSync(device, link);
  }

  async stop(): Promise<void> {
    await this.exec('wineserver', ['-k'], 30000);
    rmSync(this.io, { recursive: true, force: true });
  }

  private async check(result: Promise<WineResult>, what: string): Promise<void> {
    const r = await result;
    if (r.code !== 0) throw new Error(`${what} failed with ${r.code}: ${r.stderr}`);
  }
}
