import { lstatSync } from 'node:fs';
import { platform } from '../platform';
import { PermanentError, type TransportOpener } from './transport';

export interface MetadataTarget {
  kind: 'socket' | 'serial';
  path: string;
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Where the metadata service is: `MDATA_SOCKET`, `MDATA_SERIAL`, a zone socket, or the second serial port. */
export function findMetadataTarget(): MetadataTarget {
  const { MDATA_SOCKET, MDATA_SERIAL } = process.env;
  if (MDATA_SOCKET) return { kind: 'socket', path: MDATA_SOCKET };
  if (MDATA_SERIAL) return { kind: 'serial', path: MDATA_SERIAL };
  const socket = platform.zoneSockets.find(isSocket);
  if (socket) return { kind: 'socket', path: socket };
  if (platform.serialDevice) return { kind: 'serial', path: platform.serialDevice };
  throw new PermanentError("I don't know how to get metadata on this system.");
}

/** Loads only the transport in use: the serial one brings serialport and the native addons. */
export async function openerFor(target: MetadataTarget): Promise<TransportOpener> {
  if (target.kind === 'socket') return (await import('./socket')).socketOpener(target.path);
  return (await import('./serial')).serialOpener(target.path);
}
