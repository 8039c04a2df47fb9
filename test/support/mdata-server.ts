// mdata-server from the sources as a child process, and a raw client of its unix sockets.
import { spawn, ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { join } from 'node:path';
import { stop, startUntil } from './processes';
import { repoRoot } from './run-tool';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'server');
let seeded = 0;

/** A fresh folder under `parent` with copies of the server fixtures, and where its socket goes. */
export function seedDir(parent: string): { dir: string; metadata: string; vm: string; socket: string } {
  const dir = join(parent, `s${++seeded}`);
  mkdirSync(dir);
  copyFileSync(join(FIXTURES, 'metadata.json'), join(dir, 'metadata.json'));
  copyFileSync(join(FIXTURES, 'vm.json'), join(dir, 'vm.json'));
  return { dir, metadata: join(dir, 'metadata.json'), vm: join(dir, 'vm.json'), socket: join(dir, 'metadata.sock') };
}

export interface RunningServer {
  child: ChildProcess;
  /** Its stderr so far (the first MiB). */
  stderr: () => string;
  stderrBytes: () => number;
  exited: Promise<number | null>;
}

const READY = /listening on|serving \d+ zones|waiting for|connected to/;

const running = new Set<ChildProcess>();

/** Kills the servers a test started and did not stop (it failed before it could): call in `test.after`. */
export function killServers(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * Start mdata-server from the sources; resolves when stderr matches `ready` (10 s at most). With
 * `readStderr: false` the pipe is no longer read after that, as when nobody reads a log pipe.
 */
export async function startServer(args: string[], ready = READY, options: { readStderr?: boolean } = {}): Promise<RunningServer> {
  const { child, stderr, stderrBytes } = await startUntil(process.execPath, ['-r', 'tsm', 'cmd/mdata-server.ts', ...args], ready, 10_000, { cwd: repoRoot, readStderr: options.readStderr });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    const done = () => {
      running.delete(child);
      resolve(child.exitCode);
    };
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', done);
  });
  return { child, stderr, stderrBytes, exited };
}

/** Run mdata-server to completion (bad input): exit code and output. */
export function runServer(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'tsm', 'cmd/mdata-server.ts', ...args], { cwd: repoRoot });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; its exit code (null when killed by a signal). */
export async function stopServer(server: RunningServer): Promise<number | null> {
  await stop(server.child, 5000);
  return server.exited;
}

/** A process's resident set now and at its peak, in MiB (Linux /proc). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** How many bytes a process has read so far, from files and sockets alike (Linux /proc: rchar). */
export function bytesRead(pid: number): number {
  return Number(/^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

/** A client connection that collects everything it receives (latin1, one char per byte). */
export class Client {
  received = '';
  ended = false;
  private waiter: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.received += d.toString('latin1');
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path, () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  static wrap(socket: Socket): Client {
    return new Client(socket);
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Wait (at most `ms`) until `done(received)` holds or the connection closes; returns what was received. */
  async until(done: (text: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.received) && Date.now() < deadline && !this.ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.waiter = null;
    return this.received;
  }

  /** Send a request and return as many bytes of reply as `expected` has (or what came before the timeout). */
  async ask(request: string | Buffer, expected: string, ms = 3000): Promise<string> {
    const start = this.received.length;
    this.send(request);
    await this.until((text) => text.length - start >= expected.length, ms);
    const reply = this.received.slice(start);
    this.received = this.received.slice(0, start);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}
