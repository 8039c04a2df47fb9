import { GuestCommands } from '../../lib/guest/commands';
import { MetadataUnavailableError, type GuestContext, type GuestLog } from '../../lib/guest/context';
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
  /** Commands the runner really started: name and arguments. */
  ran: string[][];
}

export function testContext(
  root: string,
  metadata: Record<string, string | null | undefined> = {},
  options: { dryRun?: boolean; path?: string; live?: boolean } = {},
): TestContext {
  const lines: string[] = [];
  const printed: string[] = [];
  const ran: string[][] = [];
  const dryRun = options.dryRun === true;
  const live = options.live ?? true;
  const log: GuestLog = {
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
  };
  const print = (text: string) => printed.push(text);
  const runner = new GuestCommands({ dryRun, log, print, live, path: options.path ?? '' });
  return {
    root,
    dryRun,
    deadline: Date.now() + 60_000,
    lines,
    printed,
    ran,
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
    commands: {
      live,
      which: (name) => runner.which(name),
      run(name, args, runOptions = {}) {
        const starts = runner.which(name) !== null && !(runOptions.live && !live) && !(dryRun && !runOptions.readOnly);
        if (starts) ran.push([name, ...args]);
        return runner.run(name, args, runOptions);
      },
    },
  };
}
