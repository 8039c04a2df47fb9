import type { Readable } from 'node:stream';

export class ReadTimeoutError extends Error {}
export class ChannelClosedError extends Error {}
/** The host sent a line (or a V1 body) longer than any value can be: not retried. */
export class ReplyTooLongError extends Error {}

/** The longest reply line we accept: a 48 MiB value, base64-encoded, fits. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a byte stream into LF-terminated lines (LF removed, bytes kept as latin1 so the text
 * round-trips to the original bytes) and hands them out with bounded waits. A partial line is
 * kept as the chunks it came in and joined once, at its LF. What is buffered stays under
 * `maxLine` bytes plus one chunk: reading pauses until the reader catches up.
 */
export class LineChannel {
  private lines: string[] = [];
  private buffered = 0;
  private partial: Buffer[] = [];
  private partialSize = 0;
  private tooLong = false;
  private closed = false;
  private lastData = 0;
  private waiter: (() => void) | null = null;

  constructor(private readonly source: Readable, private readonly maxLine = MAX_LINE_BYTES) {
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
    let start = 0;
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, start)) {
      this.addPiece(chunk.subarray(start, lf));
      if (!this.tooLong) {
        const line = Buffer.concat(this.partial, this.partialSize).toString('latin1');
        this.lines.push(line);
        this.buffered += line.length;
      }
      this.partial = [];
      this.partialSize = 0;
      start = lf + 1;
    }
    if (start < chunk.length) this.addPiece(chunk.subarray(start));
    if (this.buffered + this.partialSize > this.maxLine) this.source.pause();
    this.wake();
  }

  private addPiece(piece: Buffer): void {
    if (this.partialSize + piece.length > this.maxLine) {
      this.tooLong = true;
      this.partial = [];
      this.partialSize = 0;
    } else if (!this.tooLong && piece.length > 0) {
      this.partial.push(piece);
      this.partialSize += piece.length;
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
    this.buffered = 0;
    this.partial = [];
    this.partialSize = 0;
    this.tooLong = false;
    this.source.resume();
  }

  /**
   * The next line. Rejects when no byte has arrived for `idleMs` (so a long reply that keeps
   * coming is not cut off), at `deadline` (Date.now() ms) whatever comes, at end of stream, and
   * for a line longer than the limit.
   */
  async readLine(idleMs: number, deadline: number): Promise<string> {
    const started = Date.now();
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        this.buffered -= line.length;
        this.source.resume();
        return line;
      }
      if (this.tooLong) throw new ReplyTooLongError(`the metadata service sent a line longer than ${this.maxLine / (1024 * 1024)} MiB`);
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
