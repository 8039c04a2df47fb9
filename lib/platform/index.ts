import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A held exclusive lock on a serial device; `release()` is idempotent. */
export interface DeviceLock {
  release(): void;
}

/**
 * What differs between the guest operating systems, in one place (as `plat.h` is to
 * mdata-client): where the metadata service is, how a serial device is locked, random bytes,
 * how the multi-call executable learns its name, and where native addons may be extracted.
 */
interface Platform {
  readonly name: 'linux' | 'windows' | 'other';
  /** The second serial port of a KVM/bhyve guest, or null where we know none. */
  readonly serialDevice: string | null;
  /** Zone metadata sockets, newest first. */
  readonly zoneSockets: readonly string[];
  /** False when the device certainly does not exist (Windows COM ports have no file to check). */
  deviceMayExist(path: string): boolean;
  /** Excludes mdata-client, cloud-init and our other clients from the device until released. */
  lockDevice(path: string, deadline: number): Promise<DeviceLock>;
  randomBytes(count: number): Buffer;
  /** The name the executable was started as (`mdata-get`, `sdc-guest`), and the path shown in usage lines. */
  invokedAs(): { name: string; path: string };
  /** Folders to extract native addons to, in order; later ones are fallbacks for noexec or read-only mounts. */
  addonDirs(): string[];
  /**
   * Files have POSIX owners, a folder can be flushed, and so can a file through a read-only
   * handle. On Windows none of these holds (FlushFileBuffers needs write access).
   */
  readonly posixFiles: boolean;
  /** Commands get a process group of their own (POSIX). Windows has none, and `detached` would open a console there. */
  readonly processGroups: boolean;
  /** Stops a command started by the guest runner and what it started in turn. */
  killTree(pid: number, signal: NodeJS.Signals): void;
}

const ZONE_SOCKETS = ['/.zonecontrol/metadata.sock', '/native/.zonecontrol/metadata.sock', '/var/run/smartdc/metadata.sock'];

function unique(dirs: Array<string | undefined>): string[] {
  return [...new Set(dirs.filter((d): d is string => !!d))];
}

/** node:os, loaded only when an addon is extracted: most runs never need it. */
const os = (): typeof import('node:os') => require('node:os');

/** Bytes read from /dev/urandom at a time; calls take slices until they are used up. */
const RANDOM_POOL_SIZE = 4096;
let randomPool: Buffer = Buffer.alloc(0);
let randomPoolUsed = 0;

function readUrandom(count: number): Buffer {
  const bytes = Buffer.alloc(count);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let done = 0; done < count; ) done += readSync(fd, bytes, done, count - done, null);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Random bytes from /dev/urandom, as mdata-client reads them: node:crypto would cost the tools
 * start-up time. A request id or temp name takes a few bytes, so they come from a pool that is
 * read once and refilled when used up; each slice is handed out once, as a copy of its own.
 */
function urandom(count: number): Buffer {
  if (count > RANDOM_POOL_SIZE) return readUrandom(count);
  if (randomPoolUsed + count > randomPool.length) {
    randomPool = readUrandom(RANDOM_POOL_SIZE);
    randomPoolUsed = 0;
  }
  const bytes = Buffer.from(randomPool.subarray(randomPoolUsed, randomPoolUsed + count));
  randomPool.fill(0, randomPoolUsed, randomPoolUsed + count);
  randomPoolUsed += count;
  return bytes;
}

const posix: Platform = {
  name: process.platform === 'linux' ? 'linux' : 'other',
  serialDevice: process.platform === 'linux' ? '/dev/ttyS1' : null,
  zoneSockets: ZONE_SOCKETS,
  deviceMayExist: (path) => existsSync(path),
  lockDevice: async (path, deadline) => (await import('../transport/device-lock')).acquireDeviceLock(path, deadline),
  randomBytes: urandom,
  invokedAs: () => ({ name: basename(process.argv0), path: process.argv0 }),
  addonDirs: () => unique([process.env.MDATA_NATIVE_DIR, os().tmpdir(), '/dev/shm', '/run', '/var/tmp', join(os().homedir(), '.cache'), dirname(process.execPath)]),
  posixFiles: true,
  processGroups: true,
  killTree: (pid, signal) => signalQuietly(-pid, signal),
};

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * `taskkill /T /F` ends the process and its descendants. Wine's taskkill has no /T: when taskkill
 * fails, the process alone is terminated.
 */
function taskkillTree(pid: number): void {
  const { execFile } = require('node:child_process') as typeof import('node:child_process');
  const taskkill = join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'taskkill.exe');
  execFile(taskkill, ['/T', '/F', '/PID', String(pid)], { windowsHide: true, timeout: 10_000 }, (err) => {
    if (err) signalQuietly(pid, 'SIGKILL');
  });
}

const windows: Platform = {
  name: 'windows',
  serialDevice: 'COM2',
  zoneSockets: [],
  deviceMayExist: () => true,
  // Opening a COM port is exclusive on Windows: the open is the lock.
  lockDevice: async () => ({ release() {} }),
  randomBytes: (count) => (require('node:crypto') as typeof import('node:crypto')).randomBytes(count),
  invokedAs: () => ({ name: basename(process.execPath).toLowerCase().replace(/\.exe$/, ''), path: process.execPath }),
  addonDirs: () => unique([process.env.MDATA_NATIVE_DIR, os().tmpdir(), join(os().homedir(), '.cache'), dirname(process.execPath)]),
  posixFiles: false,
  processGroups: false,
  // Windows has no signals to ask politely: the time limit ends the whole tree at once.
  killTree: (pid) => taskkillTree(pid),
};

export const platform: Platform = process.platform === 'win32' ? windows : posix;
