import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { platform } from '../platform';
import type { CommandResult, CommandRunner, GuestLog, RunOptions } from './context';

class CommandMissingError extends Error {}

/** Output kept per stream; the rest is dropped (and counted). */
const MAX_OUTPUT = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;
/** After a command exits, how long its output may still take to end. */
const OUTPUT_DRAIN_MS = 2000;
/** After SIGTERM at the time limit, this long before SIGKILL. */
const KILL_GRACE_MS = 5000;

interface RunnerOptions {
  dryRun: boolean;
  log: GuestLog;
  /** Where a dry run prints the commands it would run. */
  print: (text: string) => void;
  /** Commands are searched here; default: the PATH of this process. */
  path?: string;
  /** Commands that act on the running system are run (false under `--root` without `--live`). */
  live: boolean;
}

/** How a command is shown in logs: its arguments, never its input. */
function shown(file: string, args: string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}

/**
 * The one way guest actions run system commands: found on PATH (or given as a path), bounded in
 * time (SIGTERM, then SIGKILL to the whole process group; on Windows the process tree at once),
 * output bounded, every command line logged. A dry run prints the command instead, unless it only
 * reads.
 */
export class GuestCommands implements CommandRunner {
  constructor(private readonly options: RunnerOptions) {}

  get live(): boolean {
    return this.options.live;
  }

  which(name: string): string | null {
    const dirs = /[\\/]/.test(name) ? [''] : (this.options.path ?? process.env.PATH ?? '').split(delimiter).filter(Boolean);
    for (const dir of dirs) {
      const file = dir ? join(dir, name) : name;
      try {
        accessSync(file, constants.X_OK);
        if (statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
    return null;
  }

  async run(name: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
    if (options.live && !this.options.live) {
      this.options.log.info(`not run, the root is not the running system: ${shown(name, args)}`);
      return { code: 0, stdout: '', stderr: '', skipped: true };
    }
    const file = this.which(name);
    if (this.options.dryRun && !options.readOnly) {
      // A script a dry run did not write is not there yet: say so, and plan on.
      const notes = `${options.input === undefined ? '' : ' (with input)'}${file ? '' : ' (not there now)'}`;
      this.options.print(`would run: ${shown(name, args)}${notes}\n`);
      return { code: 0, stdout: '', stderr: '' };
    }
    if (!file) throw new CommandMissingError(`${name}: command not found`);
    if (!options.quiet) this.options.log.info(`run: ${shown(name, args)}`);
    return this.start(file, args, options);
  }

  /** Where every command that runs is started. */
  protected start(file: string, args: string[], options: RunOptions): Promise<CommandResult> {
    return runProcess(file, args, options);
  }
}

function runProcess(file: string, args: string[], options: RunOptions): Promise<CommandResult> {
  const limit = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: platform.processGroups,
      windowsHide: true,
    });
    const streams = { stdout: new Collector(options.onOutput), stderr: new Collector(options.onOutput) };
    child.stdout.on('data', (chunk: Buffer) => streams.stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => streams.stderr.add(chunk));
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => platform.killTree(child.pid as number, signal);
    let killer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killer);
      const stdout = streams.stdout.text();
      let stderr = streams.stderr.text();
      if (timedOut) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}killed after ${limit / 1000} s (time limit)`;
      resolve({ code: code ?? 128 + (signal ? osConstants.signals[signal] : 0), stdout, stderr, timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killer = setTimeout(() => {
        signalGroup('SIGKILL');
        // Something the kill could not reach (wine's taskkill has no /T) may still hold the output pipes.
        killer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          child.unref();
          finish(child.exitCode, child.signalCode);
        }, KILL_GRACE_MS);
      }, KILL_GRACE_MS);
    }, limit);
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killer);
      done = true;
      reject(err);
    });
    child.on('close', finish);
    // A process it left in the background (`daemon &`) may hold the output pipes open: the command
    // is done when it exits. Output that still comes is logged while we run; we do not wait for it.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return;
      const drained = setTimeout(() => {
        for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
        finish(code, signal);
      }, OUTPUT_DRAIN_MS);
      child.once('close', () => clearTimeout(drained));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Keeps at most MAX_OUTPUT bytes of a stream, and hands complete lines to a listener as they come. */
class Collector {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;
  private partial = '';
  /** Keeps a character split across chunks whole. */
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onLine?: (line: string) => void) {}

  add(chunk: Buffer): void {
    const room = MAX_OUTPUT - this.size;
    if (room > 0) this.chunks.push(chunk.subarray(0, room));
    this.size += Math.min(room, chunk.length);
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    if (this.onLine) this.split(this.decoder.write(chunk));
  }

  /** Hands on the complete lines; only the new text is split, the partial line grows at its end. */
  private split(text: string): void {
    const lines = text.split('\n');
    lines[0] = this.partial + lines[0];
    this.partial = (lines.pop() as string).slice(-MAX_OUTPUT);
    for (const line of lines) this.onLine?.(line);
  }

  text(): string {
    if (this.onLine) this.split(this.decoder.end());
    if (this.onLine && this.partial) this.onLine(this.partial);
    this.partial = '';
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `${text}\n(${this.dropped} more bytes not kept)` : text;
  }
}
