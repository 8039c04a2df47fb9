import type { Readable } from 'node:stream';

export class ReadTimeoutError extends Error {}
export class ChannelClosedError extends Error {}

/**
 * Splits a byte stream into LF-terminated lines (LF removed, bytes kept as latin1 so the
 * text round-trips to the original bytes) and hands them out with bounded waits.
 */
export class LineChannel {
  private lines: string[] = [];
  private partial: string[] = [];
  private closed = false;
  private lastData = 0;
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
    this.lastData = Date.now();
    const text = chunk.toString('latin1');
    let start = 0;
    for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', start)) {
      this.partial.push(text.slice(start, lf));
      this.lines.push(this.partial.join(''));
      this.partial = [];
      start = lf + 1;
    }
    if (start < text.length) this.partial.push(text.slice(start));
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Forget everything received so far. */
  discard(): void {
    this.lines = [];
    this.partial = [];
  }

  /**
   * The next line. Rejects when no byte has arrived for `idleMs` (so a long reply that keeps
   * coming is not cut off), at `deadline` (Date.now() ms) whatever comes, or at end of stream.
   */
  async readLine(idleMs: number, deadline: number): Promise<string> {
    const started = Date.now();
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new ChannelClosedError('connection closed by the metadata service');
      const end = Math.min(Math.max(this.lastData, started) + idleMs, deadline);
      const wait = end - Date.now();
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
