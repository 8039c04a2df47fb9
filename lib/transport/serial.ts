import type { SerialPortStream } from '@serialport/stream';
import { platform, type DeviceLock } from '../platform';
import { LockTimeoutError } from './device-lock';
import { withTimeLimit } from '../time-limit';
import { LineChannel } from './line-channel';
import { PermanentError, TransientError, type Transport, type TransportOpener } from './transport';

const CLOSE_WAIT_MS = 1000;

class SerialTransport implements Transport {
  readonly input: LineChannel;

  constructor(private readonly port: SerialPortStream, private readonly lock: DeviceLock, readonly description: string) {
    this.input = new LineChannel(port);
  }

  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(data, 'latin1'), (err) => {
        if (err) return reject(new TransientError(err.message));
        this.port.drain((e) => (e ? reject(new TransientError(e.message)) : resolve()));
      });
    });
  }

  /** The open has just flushed the device (serialport's open does tcflush TCIOFLUSH, PurgeComm on Windows): a second flush would cost a round trip to its thread pool. */
  async discardInput(): Promise<void> {
    this.input.discard();
  }

  async close(): Promise<void> {
    // Bounded: a close behind a write the host never read must not hold the tool.
    if (this.port.isOpen) await withTimeLimit(new Promise<void>((resolve) => this.port.close(() => resolve())), CLOSE_WAIT_MS, () => undefined);
    this.lock.release();
  }
}

type PortOpener = (path: string) => Promise<SerialPortStream>;

/** serialport's stream over its native binding, loaded only for this transport: it brings the addon. */
async function loadSerialPort(): Promise<PortOpener> {
  const [{ SerialPortStream: Stream }, { autoDetect }] = await Promise.all([import('@serialport/stream'), import('@serialport/bindings-cpp')]);
  const binding = autoDetect();
  return (path) =>
    new Promise((resolve, reject) => {
      const port = new Stream({ binding, path, baudRate: 9600, autoOpen: false, lock: false, hupcl: false });
      port.open((err) => (err ? reject(err) : resolve(port)));
    });
}

/**
 * The second serial port of a KVM/bhyve guest. On Linux a POSIX fcntl write lock on the device
 * excludes mdata-client, cloud-init and our other clients; on Windows the open itself is exclusive.
 */
export function serialOpener(path: string): TransportOpener {
  return async (deadline) => {
    if (!platform.deviceMayExist(path)) throw new PermanentError('Could not open serial device.');
    let openPort: PortOpener;
    try {
      openPort = await loadSerialPort();
    } catch (err) {
      throw new PermanentError((err as Error).message);
    }
    let lock: DeviceLock;
    try {
      lock = await platform.lockDevice(path, deadline);
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new TransientError(`Could not lock serial device (${path} is held by another process).`);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') throw new PermanentError('Could not open serial device.');
      throw new PermanentError(`Could not lock serial device: ${(err as Error).message}`);
    }
    try {
      return new SerialTransport(await openPort(path), lock, path);
    } catch (err) {
      lock.release();
      const text = err instanceof Error ? err.message : String(err);
      if (/no such file|permission denied|not found|cannot find/i.test(text)) throw new PermanentError('Could not open serial device.');
      throw new TransientError(`Could not open serial device: ${text}`);
    }
  };
}
