import { lstatSync } from 'node:fs';
import { PermanentError, type TransportOpener } from './transport';

/** Zone sockets, newest first: SmartOS zones, LX zones, SDC 6 zones. */
const ZONE_SOCKETS = ['/.zonecontrol/metadata.sock', '/native/.zonecontrol/metadata.sock', '/var/run/smartdc/metadata.sock'];

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
export function findMetadataTarget(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): MetadataTarget {
  if (env.MDATA_SOCKET) return { kind: 'socket', path: env.MDATA_SOCKET };
  if (env.MDATA_SERIAL) return { kind: 'serial', path: env.MDATA_SERIAL };
  if (platform === 'win32') return { kind: 'serial', path: 'COM2' };
  const socket = ZONE_SOCKETS.find(isSocket);
  if (socket) return { kind: 'socket', path: socket };
  if (platform === 'linux') return { kind: 'serial', path: '/dev/ttyS1' };
  throw new PermanentError("I don't know how to get metadata on this system.");
}

/** Loads only the transport in use: the serial one brings serialport and the native addons. */
export async function openerFor(target: MetadataTarget): Promise<TransportOpener> {
  if (target.kind === 'socket') return (await import('./socket')).socketOpener(target.path);
  return (await import('./serial')).serialOpener(target.path);
}
