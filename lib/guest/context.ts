import type { Stats } from 'node:fs';

/**
 * What every guest action gets: the prefix root, the dry-run switch, the log, rooted file access,
 * the command runner and the metadata fetched at the start of the run. Actions are plain functions
 * of this context, so each can be tested alone against a prefix root and stub commands.
 */
export interface GuestContext {
  /** Prefix for every file read or written; '/' on a real guest. */
  readonly root: string;
  /** Print what would change (files with a diff, commands) and change nothing. */
  readonly dryRun: boolean;
  /** The end of the run's budget (Date.now() ms), for the metadata service and for waits; commands and scripts have their own limits. */
  readonly deadline: number;
  readonly log: GuestLog;
  readonly files: RootedFiles;
  readonly commands: CommandRunner;
  readonly metadata: MetadataView;
}

export interface GuestLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Metadata fetched once per run. */
export interface MetadataView {
  /** The value, or null when the host has no such key. Throws MetadataUnavailableError when it could not be fetched. */
  get(key: string): string | null;
}

export class MetadataUnavailableError extends Error {}

export interface WriteOptions {
  /** Default: the replaced file's mode, else 0644. */
  mode?: number;
  /** Default: the replaced file's owner, else the running user. */
  owner?: { uid: number; gid: number };
  /** Customer data that may hold secrets: a dry run shows its size, not its content. */
  secret?: boolean;
}

/** Files under the root. Paths are absolute guest paths (`/etc/hosts`); symlinks resolve inside the root. */
export interface RootedFiles {
  /** The host path of a guest path. */
  hostPath(path: string): string;
  read(path: string): Promise<Buffer | null>;
  readText(path: string): Promise<string | null>;
  /** What is at the path, following links (null: nothing there). */
  stat(path: string): Promise<Stats | null>;
  /** What is at the path itself, a link not followed (null: nothing there). */
  lstat(path: string): Promise<Stats | null>;
  /** The target of the link at the path (null: not a link). */
  readlink(path: string): Promise<string | null>;
  /** The names in a folder (none when it does not exist). */
  list(path: string): Promise<string[]>;
  /** Atomic replace, only when the content or mode differs; returns whether it changed. In a dry run: prints a diff. */
  write(path: string, data: string | Buffer, options?: WriteOptions): Promise<boolean>;
  /** `write` for the host file `source`, streamed, never held whole (an executable); a dry run shows its size, not a diff. */
  copy(path: string, source: string, options?: WriteOptions): Promise<boolean>;
  /** Removes a file, link or folder (the link itself, not its target); returns whether something was there. */
  remove(path: string): Promise<boolean>;
  /** Creates the folder (and missing parents) and gives it exactly `mode`. */
  mkdir(path: string, mode: number): Promise<void>;
  /** Makes `path` a symbolic link to `target`, atomically, unless it is one already; returns whether it changed. */
  link(path: string, target: string): Promise<boolean>;
}

export interface CommandResult {
  /** The exit status; 128 + n when killed by signal n. */
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at its time limit. */
  timedOut?: boolean;
  /** Not run: it acts on the running system, and the root is not the running system. */
  skipped?: boolean;
}

export interface RunOptions {
  /** Written to the command's stdin; never logged. Secrets go here, never in args. */
  input?: string | Buffer;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Runs in a dry run too: it only reads (`ip -j route`, `blkid -p`). */
  readOnly?: boolean;
  /** Acts on the running kernel or its services (`hostname`, `ip`, `mount`): not run under `--root` without `--live`. */
  live?: boolean;
  /** Not logged: a poll repeated many times. */
  quiet?: boolean;
  /** Each line of output as it comes (scripts' output goes to the log as it happens). */
  onOutput?: (line: string) => void;
}

/** System commands, found on PATH, bounded in time and logged. Throws for a command not on PATH. */
export interface CommandRunner {
  /** Commands that act on the running system run: the root is `/`, or `--live` says it is the running system. */
  readonly live: boolean;
  /** The full path of a command on PATH, or null. */
  which(name: string): string | null;
  run(name: string, args: string[], options?: RunOptions): Promise<CommandResult>;
}
