import { basename } from 'node:path';
import { GuestCommands } from '../../lib/guest/commands';
import { MetadataUnavailableError, type CommandResult, type GuestContext, type GuestLog, type RunOptions } from '../../lib/guest/context';
import { GuestFiles } from '../../lib/guest/files';

/**
 * The guest framework's own context for action tests: real rooted files under a temp prefix root,
 * the real command runner over a given PATH (where tests put recording stubs), metadata from a
 * map (a key mapped to `undefined` could not be fetched), and what the run logged and printed.
 */
interface TestContext extends GuestContext {
  /** Log lines as `info: ...`, `warn: ...`, `error: ...`. */
  lines: string[];
  /** What a dry run printed. */
  printed: string[];
  /** Commands the runner really started: the file's name and the arguments. */
  ran: string[][];
}

/** The real runner, recording each command it starts. */
class RecordingCommands extends GuestCommands {
  readonly ran: string[][] = [];

  protected override start(file: string, args: string[], options: RunOptions): Promise<CommandResult> {
    this.ran.push([basename(file), ...args]);
    return super.start(file, args, options);
  }
}

export function testContext(
  root: string,
  metadata: Record<string, string | null | undefined> = {},
  options: { dryRun?: boolean; path?: string; live?: boolean } = {},
): TestContext {
  const lines: string[] = [];
  const printed: string[] = [];
  const dryRun = options.dryRun === true;
  const log: GuestLog = {
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
  };
  const print = (text: string) => printed.push(text);
  const commands = new RecordingCommands({ dryRun, log, print, live: options.live ?? true, path: options.path ?? '' });
  return {
    root,
    dryRun,
    deadline: Date.now() + 60_000,
    lines,
    printed,
    ran: commands.ran,
    log,
    metadata: {
      get(key) {
        if (!(key in metadata)) return null;
        const value = metadata[key];
        if (value === undefined) throw new MetadataUnavailableError(`${key} could not be read`);
        return value;
      },
    },
    files: new GuestFiles({ root, dryRun, log, print }),
    commands,
  };
}
