import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A fresh request id: 4 random bytes as 8 lower-case hex digits. Like mdata-client it reads
 * /dev/urandom, which keeps node:crypto (20 modules, several ms of start-up) out of the tools;
 * Windows has no /dev/urandom and uses node:crypto.
 */
export function newRequestId(): string {
  const bytes = Buffer.alloc(4);
  if (process.platform === 'win32') {
    (require('node:crypto') as typeof import('node:crypto')).randomFillSync(bytes);
  } else {
    const fd = openSync('/dev/urandom', 'r');
    try {
      readSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
  }
  return bytes.toString('hex');
}
