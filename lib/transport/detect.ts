import { lstatSync } from 'node:fs';
import { platform, type Platform } from '../platform';
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
export function findMetadataTarget(env: NodeJS.ProcessEnv = process.env, plat: Platform = platform): MetadataTarget {
  if (env.MDATA_SOCKET) return { kind: 'socket', path: env.MDATA_SOCKET };
  if (env.MDATA_SERIAL) return { kind: 'serial', path: env.MDATA_SERIAL };
  const socket = plat.zoneSockets.find(isSocket);
  if (socket) return { kind: 'socket', path: socket };
  if (plat.serialDevice) return { kind: 'serial', path: plat.serialDevice };
  throw new PermanentError("I don't know how to get metadata on this system.");
}

/** Loads only the transport in use: the serial one brings serialport and the native addons. */
export async function openerFor(target: MetadataTarget): Promise<TransportOpener> {
  if (target.kind === 'socket') return (await import('./socket')).socketOpener(target.path);
  return (await import('./serial')).serialOpener(target.path);
}
