import { createConnection, createServer, Server, Socket } from 'node:net';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { handleRequest, Log, overLongResponse } from './handler';
import { InputError, MetadataStore } from './store';
import { withTimeLimit } from '../time-limit';

export interface ServerOptions {
  /** Longest request line in bytes, LF not counted. */
  maxLine: number;
  /** Per-request problems (dropped frames, socket errors); may be a no-op. */
  log: Log;
  /** State changes: listening, connected, disconnected. Always shown. */
  status: Log;
}

/** Something that runs until closed. */
export interface Service {
  close(): Promise<void>;
}

export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;
const MAX_QUEUED_LINES = 256;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;
const SHUTDOWN_WAIT_MS = 5000;

/** Splits a byte stream into LF-terminated lines, never holding more than `maxLine` bytes. */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onOverLong: (prefix: Buffer) => void,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    while (start <= data.length) {
      const lf = data.indexOf(0x0a, start);
      const piece = data.subarray(start, lf === -1 ? data.length : lf);
      if (!this.discarding) {
        if (this.size + piece.length > this.maxLine) {
          this.onOverLong(Buffer.concat([...this.chunks, piece], Math.min(256, this.size + piece.length)));
          this.discarding = true;
          this.chunks = [];
          this.size = 0;
        } else if (piece.length > 0) {
          this.chunks.push(piece);
          this.size += piece.length;
        }
      }
      if (lf === -1) return;
      if (!this.discarding) this.onLine(Buffer.concat(this.chunks, this.size));
      this.discarding = false;
      this.chunks = [];
      this.size = 0;
      start = lf + 1;
    }
  }
}

/**
 * One connection: lines are answered one at a time, in order. Reading pauses while many lines
 * are queued or the peer does not read its answers, so memory stays bounded. When the peer
 * shuts down its side, the pending answers are still sent before the connection is ended.
 */
class Session {
  private readonly queue: Array<() => Promise<string | null>> = [];
  private busy = false;
  private closed = false;
  private peerEnded = false;

  constructor(
    private readonly socket: Socket,
    store: MetadataStore,
    private readonly options: ServerOptions,
  ) {
    const { maxLine, log } = options;
    const splitter = new LineSplitter(
      maxLine,
      (line) => this.enqueue(() => handleRequest(line.toString('utf8'), store, log)),
      (prefix) => {
        log(`request line longer than ${maxLine} bytes discarded`);
        this.enqueue(async () => overLongResponse(prefix.toString('latin1'), maxLine));
      },
    );
    socket.on('data', (data: Buffer) => splitter.push(data));
    socket.on('error', (err) => log(`connection error: ${err.message}`));
    socket.on('end', () => {
      this.peerEnded = true;
      void this.pump();
    });
    socket.on('close', () => {
      this.closed = true;
      this.queue.length = 0;
    });
  }

  private enqueue(task: () => Promise<string | null>): void {
    this.queue.push(task);
    if (this.queue.length > MAX_QUEUED_LINES) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0 && !this.closed) {
      const reply = await this.queue.shift()!().catch((err: Error) => {
        this.options.log(`request failed: ${err.message}`);
        return null;
      });
      if (reply !== null && !this.closed && !this.socket.write(reply)) await drainedOrClosed(this.socket);
    }
    this.busy = false;
    if (this.closed) return;
    if (this.peerEnded) this.socket.end();
    else this.socket.resume();
  }
}

function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Remove a stale socket file at `path`; refuse to remove anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (info === null) return;
  if (!info.isSocket()) throw new InputError(`${path} exists and is not a socket`);
  await unlink(path);
}

/** `--socket PATH`: listen; every connection is its own session, as on a zone socket. */
export async function listenOnSocket(path: string, store: MetadataStore, options: ServerOptions): Promise<Service> {
  await removeStaleSocket(path);
  const connections = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    new Session(socket, store, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.log(`${path}: ${err.message}`));
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await closed;
      await unlink(path).catch(() => undefined);
      await withTimeLimit(store.idle(), SHUTDOWN_WAIT_MS, () => undefined);
    },
  };
}

/**
 * `--connect PATH`: connect to a QEMU/bhyve chardev socket as the agent does, and keep
 * reconnecting (100 ms doubling to 2 s) while it is missing, refusing or gone.
 */
export function connectToChardev(path: string, store: MetadataStore, options: ServerOptions): Service {
  let delay = RECONNECT_MIN_MS;
  let stopping = false;
  let socket: Socket | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastError = '';

  const attempt = () => {
    timer = null;
    let connected = false;
    const current = createConnection({ path, allowHalfOpen: true });
    socket = current;
    current.on('connect', () => {
      connected = true;
      delay = RECONNECT_MIN_MS;
      lastError = '';
      options.status(`connected to ${path}`);
      new Session(current, store, options);
    });
    current.on('error', (err: NodeJS.ErrnoException) => {
      if (connected || err.code === lastError) return;
      lastError = err.code ?? err.message;
      options.status(`waiting for ${path}: ${err.code ?? err.message}`);
    });
    current.on('close', () => {
      socket = null;
      if (stopping) return;
      if (connected) options.status(`disconnected from ${path}`);
      timer = setTimeout(attempt, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    });
  };
  attempt();

  return {
    async close() {
      stopping = true;
      if (timer) clearTimeout(timer);
      socket?.destroy();
      await withTimeLimit(store.idle(), SHUTDOWN_WAIT_MS, () => undefined);
    },
  };
}

/**
 * `--zones-root DIR`: every `DIR/<name>/config/metadata.json` (with optional `config/vm.json`)
 * is served at `DIR/<name>/metadata.sock`, each zone from its own store. Zones with bad files
 * are skipped with an error line; no servable zone at all is an input error.
 */
export async function serveZones(root: string, options: ServerOptions): Promise<{ service: Service; zones: string[] }> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new InputError(`cannot read ${root}: ${(err as Error).message}`);
  }
  const services: Service[] = [];
  const zones: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const config = join(root, entry.name, 'config');
    const metadataPath = join(config, 'metadata.json');
    if (!(await lstat(metadataPath).catch(() => null))) continue;
    const vmPath = join(config, 'vm.json');
    const hasVm = (await lstat(vmPath).catch(() => null)) !== null;
    try {
      const store = await MetadataStore.load(metadataPath, hasVm ? vmPath : undefined);
      services.push(await listenOnSocket(join(root, entry.name, 'metadata.sock'), store, options));
      zones.push(entry.name);
    } catch (err) {
      options.status(`zone ${entry.name} skipped: ${(err as Error).message}`);
    }
  }
  const service = { close: async () => void (await Promise.all(services.map((s) => s.close()))) };
  if (zones.length === 0) {
    await service.close();
    throw new InputError(`no servable zones under ${root} (need <zone>/config/metadata.json)`);
  }
  return { service, zones };
}

