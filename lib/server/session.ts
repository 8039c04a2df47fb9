import type { Socket } from 'node:net';
import { handleRequest, refusedLineResponse } from './handler';
import { ConnectionLog } from './log';
import type { MetadataStore } from './store';

/** Bytes shared by the partial lines of many connections, so that together they stay bounded. */
export class ByteBudget {
  private used = 0;

  /** `parent`, when given, is charged as well: a zone's budget within the server's. */
  constructor(
    readonly limit: number,
    private readonly parent?: ByteBudget,
  ) {}

  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    if (this.parent && !this.parent.reserve(bytes)) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.parent?.release(bytes);
  }
}

/** What `LineSplitter.next()` gives: a whole line without its LF, or a line that was refused. */
export type SplitItem = { line: Buffer } | { refused: 'too long' | 'no budget'; prefix: Buffer };

/** Bytes of a line that a connection may hold without drawing on the shared budget. */
const FREE_PER_LINE = 64 * 1024;
/** Pieces shorter than this are copied into a block; each socket read costs a few hundred bytes besides its data. */
const SMALL_PIECE = 1024;
const BLOCK = 16 * 1024;
/** How much of a refused line is kept: enough for the request id of a frame. */
const REFUSED_PREFIX = 256;

/**
 * Splits a byte stream into LF-terminated lines, one line per `next()` call, in time linear in
 * the bytes. A partial line is kept as its pieces and joined once, at its LF; small pieces are
 * gathered into blocks, so a line sent one byte per write does not cost a socket buffer per byte.
 * A line longer than `maxLine`, or one that the budget cannot hold past FREE_PER_LINE bytes, is
 * refused once and discarded up to its LF. The line last returned stays charged to the budget
 * until the next `next()` or `clear()`.
 */
export class LineSplitter {
  private input: Buffer[] = [];
  /** Where scanning resumes in input[0]. */
  private offset = 0;
  private unscanned = 0;
  private pieces: Buffer[] = [];
  private size = 0;
  private block: Buffer | null = null;
  private blockUsed = 0;
  private discarding = false;
  private charged = 0;

  constructor(
    private readonly maxLine: number,
    private readonly budget?: ByteBudget,
  ) {}

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.input.push(data);
    this.unscanned += data.length;
  }

  /** Received bytes not yet looked at, and the number of reads they came in. */
  get pending(): { bytes: number; reads: number } {
    return { bytes: this.unscanned, reads: this.input.length };
  }

  next(): SplitItem | null {
    this.charge(this.size);
    while (this.input.length > 0) {
      const chunk = this.input[0];
      const start = this.offset;
      const lf = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, lf === -1 ? chunk.length : lf);
      this.offset = lf === -1 ? chunk.length : lf + 1;
      this.unscanned -= this.offset - start;
      if (this.offset === chunk.length) {
        this.input.shift();
        this.offset = 0;
      }
      if (this.discarding) {
        this.discarding = lf === -1;
        continue;
      }
      // The usual case, a short line within one read, is not copied.
      if (lf !== -1 && this.size === 0 && piece.length <= Math.min(this.maxLine, FREE_PER_LINE)) return { line: piece };
      const refused = this.append(piece);
      if (refused) {
        this.discarding = lf === -1;
        return refused;
      }
      if (lf !== -1) return { line: this.takeLine() };
    }
    return null;
  }

  /** Drop everything and give back what was charged (the connection is gone). */
  clear(): void {
    this.input = [];
    this.unscanned = 0;
    this.dropLine();
    this.charge(0);
  }

  private append(piece: Buffer): SplitItem | null {
    const size = this.size + piece.length;
    const refused = size > this.maxLine ? 'too long' : this.charge(size) ? null : 'no budget';
    if (refused) {
      const prefix = Buffer.concat([...this.joined(), piece], Math.min(REFUSED_PREFIX, size));
      this.dropLine();
      this.charge(0);
      return { refused, prefix };
    }
    if (piece.length >= SMALL_PIECE) {
      this.flushBlock();
      this.pieces.push(piece);
    } else if (piece.length > 0) {
      if (this.block && this.blockUsed + piece.length > this.block.length) this.flushBlock();
      this.block ??= Buffer.allocUnsafe(BLOCK);
      this.blockUsed += piece.copy(this.block, this.blockUsed);
    }
    this.size = size;
    return null;
  }

  /** Moves the gathered small pieces into `pieces`: the whole block when full, else a copy of its used part. */
  private flushBlock(): void {
    if (!this.block || this.blockUsed === 0) return;
    if (this.blockUsed === this.block.length) {
      this.pieces.push(this.block);
      this.block = null;
    } else {
      this.pieces.push(Buffer.from(this.block.subarray(0, this.blockUsed)));
    }
    this.blockUsed = 0;
  }

  private joined(): Buffer[] {
    this.flushBlock();
    return this.pieces;
  }

  private takeLine(): Buffer {
    const line = Buffer.concat(this.joined(), this.size);
    this.dropLine();
    return line;
  }

  private dropLine(): void {
    this.pieces = [];
    this.block = null;
    this.blockUsed = 0;
    this.size = 0;
  }

  /** Charge the budget for a line of `size` bytes (what is past FREE_PER_LINE); false when it cannot. */
  private charge(size: number): boolean {
    const wanted = Math.max(0, size - FREE_PER_LINE);
    if (!this.budget || wanted === this.charged) return true;
    if (wanted < this.charged) this.budget.release(this.charged - wanted);
    else if (!this.budget.reserve(wanted - this.charged)) return false;
    this.charged = wanted;
    return true;
  }
}

export interface SessionOptions {
  /** Longest request line in bytes, LF not counted. */
  maxLine: number;
  /** Shared by the partial lines of all connections (of a zone). */
  budget: ByteBudget;
  /** Close the connection after this long without traffic; 0: never. */
  idleTimeoutMs: number;
}

/** Received bytes (or reads) past which a connection is paused until its lines are handled. */
const READ_AHEAD_BYTES = 64 * 1024;
const READ_AHEAD_READS = 64;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One connection: lines are answered one at a time, in order, and between two lines the event
 * loop serves everything else, so no connection holds the server. Reading pauses while the
 * received bytes are not yet handled or the peer does not read its answers, so a connection
 * holds at most one line (bounded by `maxLine` and the budget), one answer and a read-ahead.
 * When the peer shuts down its side, the pending answers are still sent before the
 * connection is ended.
 */
export class Session {
  private readonly lines: LineSplitter;
  private busy = false;
  private closed = false;
  private peerEnded = false;

  constructor(
    private readonly socket: Socket,
    private readonly store: MetadataStore,
    private readonly options: SessionOptions,
    private readonly log: ConnectionLog,
  ) {
    this.lines = new LineSplitter(options.maxLine, options.budget);
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        log.problem(`idle for ${options.idleTimeoutMs / 1000} s, closed`);
        socket.destroy();
      });
    }
    socket.on('data', (data: Buffer) => {
      this.lines.push(data);
      const { bytes, reads } = this.lines.pending;
      if (bytes > READ_AHEAD_BYTES || reads > READ_AHEAD_READS) socket.pause();
      void this.pump();
    });
    socket.on('error', (err) => log.problem(`connection error: ${err.message}`));
    socket.on('end', () => {
      this.peerEnded = true;
      void this.pump();
    });
    socket.on('close', () => {
      this.closed = true;
      this.lines.clear();
      log.close();
    });
  }

  private async answer(item: SplitItem): Promise<string | null> {
    if ('line' in item) return handleRequest(item.line.toString('utf8'), this.store, this.log.problem);
    const prefix = item.prefix.toString('latin1');
    if (item.refused === 'too long') {
      this.log.problem(`request line longer than ${this.options.maxLine} bytes discarded`);
      return refusedLineResponse(prefix, `Request line longer than ${this.options.maxLine} bytes`);
    }
    this.log.problem('long request line discarded: no buffer space left');
    return refusedLineResponse(prefix, 'No buffer space left for long request lines');
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    for (let item = this.lines.next(); item && !this.closed; item = this.lines.next()) {
      const reply = await this.answer(item).catch((err: Error) => {
        this.log.problem(`request failed: ${err.message}`);
        return null;
      });
      if (reply !== null && !this.closed && !this.socket.write(reply)) await drainedOrClosed(this.socket);
      if (this.lines.pending.bytes > 0) await nextTurn();
    }
    this.busy = false;
    if (this.closed) return;
    if (this.peerEnded) this.socket.end();
    else this.socket.resume();
  }
}

function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
