import type { LineChannel } from './line-channel';

/** A byte stream to the metadata service, opened for one session. */
export interface Transport {
  /** What it is connected to, for messages: a socket path or a device. */
  readonly description: string;
  readonly input: LineChannel;
  write(data: string): Promise<void>;
  /** Drop bytes that arrived before this point (stale replies on a shared serial line); called right after the open. */
  discardInput(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a transport, or throws; `deadline` bounds any waiting (Date.now() ms). */
export type TransportOpener = (deadline: number) => Promise<Transport>;

/** A failure that retrying cannot fix, such as a missing device. */
export class PermanentError extends Error {}

/** A failure that may go away: the service is not there yet, the port is busy. */
export class TransientError extends Error {}
