import type { Readable } from 'node:stream';

export class ReadTimeoutError extends Error {}
export class ChannelClosedError extends Error {}

/**
 * Splits a byte stream into LF-terminated lines (LF removed, bytes kept as latin1 so the
 * text round-trips to the original bytes) and hands them out with a deadline per read.
 */
export class LineChannel {
  private lines: string[] = [];
  private partial = '';
  private closed = false;
  private waiter: (() => void) | null = null;

  constructor(source: Readable) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    const end = () => {
      this.closed = true;
      this.wake();
    };
    source.on('end', end);
    source.on('close', end);
    source.on('error', end);
  }

  private push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('latin1')).split('\n');
    this.partial = parts.pop() ?? '';
    if (parts.length > 0) {
      this.lines.push(...parts);
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Forget everything received so far. */
  discard(): void {
    this.lines = [];
    this.partial = '';
  }

  /** The next line; rejects at the deadline (Date.now() ms) or when the stream has ended. */
  async readLine(deadline: number): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new ChannelClosedError('connection closed by the metadata service');
      const wait = deadline - Date.now();
      if (wait <= 0) throw new ReadTimeoutError('no reply from the metadata service');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
