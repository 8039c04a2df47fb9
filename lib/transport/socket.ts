import { createConnection, type Socket } from 'node:net';
import { LineChannel } from './line-channel';
import { TransientError, type Transport, type TransportOpener } from './transport';

class SocketTransport implements Transport {
  readonly input: LineChannel;

  constructor(private readonly socket: Socket, readonly description: string) {
    this.input = new LineChannel(socket);
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, 'latin1', (err) => (err ? reject(new TransientError(err.message)) : resolve()));
    });
  }

  async discardInput(): Promise<void> {
    this.input.discard();
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }
}

/** A zone-style unix socket: every connection is its own session, so no lock is needed. */
export function socketOpener(path: string): TransportOpener {
  return (deadline) =>
    new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransientError('Could not connect metadata socket.'));
      }, Math.max(0, deadline - Date.now()));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        resolve(new SocketTransport(socket, path));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const reason = err.code === 'ENOENT' ? 'Could not find metadata socket.' : 'Could not connect metadata socket.';
        reject(new TransientError(reason));
      });
    });
}
