import { createConnection, createServer, Server, Socket } from 'node:net';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectionLog, Log } from './log';
import { ByteBudget, Session, SessionOptions } from './session';
import { InputError, MetadataStore } from './store';
import { withTimeLimit } from '../time-limit';

/** `budget`: see `lineBudgetBytes`; `idleTimeoutMs`: listening modes only. */
export interface ServerOptions extends SessionOptions {
  /** Listening modes: connections one socket (one zone) may have open at once. */
  maxConnections: number;
  /** Per-request problems (dropped frames, socket errors); may be a no-op. */
  log: Log;
  /** State changes: listening, connected, disconnected, zones skipped. Always shown. */
  status: Log;
}

/** Something that runs until closed. */
export interface Service {
  close(): Promise<void>;
}

export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT_S = 300;
export const DEFAULT_MAX_CONNECTIONS = 64;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;
const SHUTDOWN_WAIT_MS = 5000;
/**
 * Stream buffer sizes of accepted connections. A paused connection keeps up to this many bytes
 * of unread input, each read with a few hundred bytes of overhead: a small mark keeps that low.
 */
const SOCKET_HIGH_WATER = 4096;

/** The budget for all partial lines together: 64 MiB, or four of the longest lines if more. */
export function lineBudgetBytes(maxLine: number): number {
  return Math.max(64 * 1024 * 1024, 4 * maxLine);
}

let connectionCount = 0;

/** Remove a stale socket file at `path`; refuse to remove anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (info === null) return;
  if (!info.isSocket()) throw new InputError(`${path} exists and is not a socket`);
  await unlink(path);
}

/**
 * `--socket PATH`: listen; every connection is its own session, as on a zone socket. Past
 * `maxConnections` open ones, a new connection is closed at once (and logged). `label` names
 * the socket in log lines (a zone).
 */
export async function listenOnSocket(path: string, store: MetadataStore, options: ServerOptions, label?: string): Promise<Service> {
  await removeStaleSocket(path);
  // Open connections, to end them at shutdown.
  const connections = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, highWaterMark: SOCKET_HIGH_WATER }, (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    const name = `${label ? `${label} ` : ''}connection ${++connectionCount}`;
    new Session(socket, store, options, new ConnectionLog(options.log, name));
  });
  // Past the limit, Node closes a new connection before it becomes a socket, and says so with 'drop'.
  // Each listener is its own server (one per zone), so the limit is per zone; it is at least 1.
  server.maxConnections = options.maxConnections;
  server.on('drop', () => options.log(`${label ?? path}: connection refused: ${options.maxConnections} connections open (--max-connections)`));
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
      // The hypervisor's one connection: never timed out (bytes the guest sends meanwhile would be lost).
      new Session(current, store, { ...options, idleTimeoutMs: 0 }, new ConnectionLog(options.log, path));
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
 * The files of the zone in `dir`: null when it has no `config/metadata.json` (not a zone), a
 * reason when it is refused. Symbolic links are refused, so that no zone is served (or
 * rewrites) another zone's files.
 */
async function zoneFiles(dir: string): Promise<{ metadata: string; vm?: string } | { refused: string } | null> {
  const config = join(dir, 'config');
  const metadata = join(config, 'metadata.json');
  const vm = join(config, 'vm.json');
  const info = (path: string) => lstat(path).catch(() => null);
  const link = (path: string) => ({ refused: `${path} is a symbolic link` });
  if ((await info(config))?.isSymbolicLink()) return link(config);
  const metadataInfo = await info(metadata);
  if (!metadataInfo) return null;
  if (metadataInfo.isSymbolicLink()) return link(metadata);
  const vmInfo = await info(vm);
  if (vmInfo?.isSymbolicLink()) return link(vm);
  return { metadata, vm: vmInfo ? vm : undefined };
}

/**
 * `--zones-root DIR`: every `DIR/<name>/config/metadata.json` (with optional `config/vm.json`)
 * is served at `DIR/<name>/metadata.sock`, each zone from its own store, with its own connection
 * limit and at most half of the line budget. Zones with bad files or symbolic links are skipped
 * with an error line; no servable zone at all is an input error.
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
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(root, entry.name);
    const skip = (why: string) => options.status(`zone ${entry.name} skipped: ${why}`);
    if (entry.isSymbolicLink()) {
      skip(`${dir} is a symbolic link`);
      continue;
    }
    if (!entry.isDirectory()) continue;
    const files = await zoneFiles(dir);
    if (files === null) continue;
    if ('refused' in files) {
      skip(files.refused);
      continue;
    }
    try {
      const store = await MetadataStore.load(files.metadata, files.vm, options.status);
      const zoneOptions = { ...options, budget: new ByteBudget(options.budget.limit / 2, options.budget) };
      services.push(await listenOnSocket(join(dir, 'metadata.sock'), store, zoneOptions, `zone ${entry.name}`));
      zones.push(entry.name);
    } catch (err) {
      skip((err as Error).message);
    }
  }
  const service = { close: async () => void (await Promise.all(services.map((s) => s.close()))) };
  if (zones.length === 0) {
    await service.close();
    throw new InputError(`no servable zones under ${root} (need <zone>/config/metadata.json)`);
  }
  return { service, zones };
}
