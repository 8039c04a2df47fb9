import { closeSync, constants, openSync } from 'node:fs';
import { loadAddon } from '../native/load-addon';
import type { DeviceLock } from '../platform';
import { sleep } from '../time-limit';

/*
 * An exclusive fcntl (POSIX record) lock on a serial device, the lock mdata-client and cloud-init take.
 *
 * POSIX locks belong to the process and are dropped when the process closes ANY fd on that file.
 * So open the device for I/O after acquiring, close it when done, and call release() last.
 * Two acquires in one process do not exclude each other.
 */

export class LockTimeoutError extends Error {
  constructor(devicePath: string) {
    super(`timed out waiting for the lock on ${devicePath} (held by another process)`);
    this.name = 'LockTimeoutError';
  }
}

interface FcntlLockAddon {
  tryLock(fd: number): boolean;
}

const MIN_DELAY_MS = 5;
const MAX_DELAY_MS = 50;

/** Takes the lock, polling until `deadline` (a Date.now() value). No F_SETLKW: it would block the event loop. */
export async function acquireDeviceLock(devicePath: string, deadline: number): Promise<DeviceLock> {
  const addon = loadAddon<FcntlLockAddon>('fcntl-lock');
  const fd = openSync(devicePath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  try {
    for (let delay = MIN_DELAY_MS; !addon.tryLock(fd); delay = Math.min(delay * 2, MAX_DELAY_MS)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new LockTimeoutError(devicePath);
      await sleep(Math.min(delay, left));
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let open = true;
  return {
    release() {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
}
