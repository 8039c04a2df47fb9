import { closeSync, constants, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GuestLog } from './context';

/** The guest tools' log file on Linux, under the root (Windows: lib/guest/windows/paths.ts). */
export const LOG_FILE = '/var/log/sdc-guest.log';

/** Appends, and never through a symlink planted at the log file's name (Windows has no O_NOFOLLOW). */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);

/** Past this size the log file becomes `<file>.1` and a new one starts: at most two files of this size. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** The log file one run writes to, held open for the run, and how big it is, shared by every action's logger. */
class LogFile {
  private size: number;
  private fd: number | null = null;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = sizeOf(path);
  }

  append(text: string): void {
    try {
      const bytes = Buffer.byteLength(text);
      if (this.size + bytes > MAX_LOG_BYTES) {
        if (this.fd !== null) closeSync(this.fd);
        this.fd = null;
        renameSync(this.path, `${this.path}.1`);
        this.size = 0;
      }
      this.fd ??= openSync(this.path, APPEND_FLAGS, 0o644);
      writeSync(this.fd, text);
      this.size += bytes;
    } catch {
      // A log file we cannot write (read-only /var) must not stop the boot; stderr has the line.
    }
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

type Level = 'info' | 'warn' | 'error';

/**
 * Log lines go to stderr (the journal, under systemd) and, unless this is a dry run, to the log
 * file. Each line names the action it comes from. Actions never log secrets: passwords go to
 * commands on stdin, and script and user-data contents are never logged.
 */
export class ToolLog implements GuestLog {
  private readonly file: LogFile | null;

  /** `file`: the log file's host path, or null for stderr only (a dry run). */
  constructor(
    file: string | LogFile | null,
    private readonly scope: string,
    private readonly stderr: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  ) {
    this.file = typeof file === 'string' ? new LogFile(file) : file;
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
    this.file?.append(`${new Date().toISOString()} [${process.pid}] ${text}\n`);
  }
}
