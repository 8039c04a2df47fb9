import type { Writable } from 'node:stream';

export type Log = (message: string) => void;

/** Longest message written, in characters; the rest is cut (a request can be megabytes long). */
const MAX_MESSAGE = 300;
/** Bytes that may wait for a stream that is not being read (a log pipe nobody drains). */
const MAX_QUEUED = 64 * 1024;
/** Problems of one connection that are logged; the rest are counted. */
const SHOWN_PER_CONNECTION = 3;

/**
 * One line per message to `stream`, after `prefix`. While more than MAX_QUEUED bytes wait to be
 * taken, messages are counted instead of queued, and the count is written once the stream takes
 * lines again: a log pipe nobody reads costs bounded memory.
 */
export function streamLog(stream: Writable, prefix: string): Log {
  let dropped = 0;
  return (message) => {
    if (stream.writableLength > MAX_QUEUED) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      stream.write(`${prefix}${dropped} log lines dropped: the log was not being read\n`);
      dropped = 0;
    }
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}... (${message.length} characters)` : message;
    stream.write(`${prefix}${text}\n`);
  };
}

/**
 * At most `burst` messages at once and `perSecond` on average go through to `log`; the others
 * are counted, and the count is logged within a second once messages may go through again.
 */
export function rateLimited(log: Log, perSecond: number, burst: number): Log {
  let tokens = burst;
  let last = Date.now();
  let suppressed = 0;
  let timer: NodeJS.Timeout | null = null;
  const take = () => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1000);
    last = now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
  const report = () => {
    timer = null;
    if (suppressed === 0) return;
    if (!take()) return void (timer = setTimeout(report, 1000).unref());
    log(`${suppressed} log lines suppressed (more than ${perSecond} a second)`);
    suppressed = 0;
  };
  return (message) => {
    if (suppressed > 0 || !take()) {
      suppressed++;
      timer ??= setTimeout(report, 1000).unref();
      return;
    }
    log(message);
  };
}

/**
 * The problems of one connection: the first few are logged under the connection's name, the
 * rest only counted and summed up in one line when the connection closes.
 */
export class ConnectionLog {
  private shown = 0;
  private hidden = 0;

  constructor(
    private readonly log: Log,
    readonly name: string,
  ) {}

  readonly problem: Log = (message) => {
    if (this.shown < SHOWN_PER_CONNECTION) {
      this.shown++;
      this.log(`${this.name}: ${message}`);
    } else {
      this.hidden++;
    }
  };

  /** Logs the summary line, if problems were held back. */
  close(): void {
    if (this.hidden > 0) this.log(`${this.name}: ${this.hidden} more problems not logged`);
    this.hidden = 0;
  }
}
