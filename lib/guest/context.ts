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
  /** The run's end (Date.now() ms): one budget for metadata, commands and scripts. */
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
  mode?: number;
  owner?: { uid: number; gid: number };
}

/** Files under the root. Paths are absolute guest paths (`/etc/hosts`); symlinks resolve inside the root. */
export interface RootedFiles {
  /** The host path of a guest path. */
  hostPath(path: string): string;
  read(path: string): Promise<Buffer | null>;
  readText(path: string): Promise<string | null>;
  /** Atomic replace, only when the content or mode differs; returns whether it changed. In a dry run: prints a diff. */
  write(path: string, data: string | Buffer, options?: WriteOptions): Promise<boolean>;
  /** Returns whether something was removed. */
  remove(path: string): Promise<boolean>;
  mkdir(path: string, mode: number): Promise<void>;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin; never logged. Secrets go here, never in args. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Runs in a dry run too: it only reads (`ip -j route`, `blkid -p`). */
  readOnly?: boolean;
}

/** System commands, found on PATH, bounded in time and logged. */
export interface CommandRunner {
  /** The full path of a command on PATH, or null. */
  which(name: string): string | null;
  run(name: string, args: string[], options?: RunOptions): Promise<CommandResult>;
}
