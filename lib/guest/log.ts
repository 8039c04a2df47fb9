import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GuestLog } from './context';

/** The guest tools' log file on Linux, under the root (Windows: lib/guest/windows/paths.ts). */
export const LOG_FILE = '/var/log/sdc-guest.log';

/** Past this size, a run starts a new log file and keeps the previous one as `<file>.1`. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** Bounds the log (nothing rotates it on Windows, and scripts' output goes there): at most two files of MAX_LOG_BYTES and one run. */
export function rotateLog(file: string): void {
  try {
    if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // no log yet, or one we cannot touch: the run logs to stderr either way
  }
}

export type Level = 'info' | 'warn' | 'error';

/**
 * Log lines go to stderr (the journal, under systemd) and, unless this is a dry run, to the log
 * file. Each line names the action it comes from. Actions never log secrets: passwords go to
 * commands on stdin, and script and user-data contents are never logged.
 */
export class ToolLog implements GuestLog {
  constructor(
    private readonly file: string | null,
    private readonly scope: string,
    private readonly stderr: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  ) {
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  /** The same log, for one action. */
  scoped(scope: string): ToolLog {
    return new ToolLog(this.file, scope, this.stderr);
  }

  info(message: string): void {
    this.line('info', message);
  }

  warn(message: string): void {
    this.line('warn', message);
  }

  error(message: string): void {
    this.line('error', message);
  }

  private line(level: Level, message: string): void {
    const text = `${this.scope}: ${level === 'info' ? '' : `${level}: `}${message}`;
    this.stderr(`sdc-guest ${text}`);
    if (!this.file) return;
    try {
      appendFileSync(this.file, `${new Date().toISOString()} [${process.pid}] ${text}\n`);
    } catch {
      // A log file we cannot write (read-only /var) must not stop the boot; stderr has the line.
    }
  }
}
