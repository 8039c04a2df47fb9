import { GuestCommands } from '../../lib/guest/commands';
import type { GuestContext, GuestLog } from '../../lib/guest/context';
import { GuestFiles } from '../../lib/guest/files';
import { MetadataUnavailableError } from '../../lib/guest/context';

/**
 * The guest framework's own context for action tests: real rooted files under a temp prefix root,
 * the real command runner over a given PATH (where tests put recording stubs), metadata from a
 * map (a key mapped to `undefined` could not be fetched), and the log and dry-run output kept.
 */
export interface TestContext extends GuestContext {
  lines: { level: 'info' | 'warn' | 'error'; message: string }[];
  /** What a dry run printed. */
  printed: string[];
}

export function testContext(
  root: string,
  metadata: Record<string, string | null | undefined>,
  options: { dryRun?: boolean; path?: string; live?: boolean } = {},
): TestContext {
  const lines: TestContext['lines'] = [];
  const printed: string[] = [];
  const dryRun = options.dryRun === true;
  const log: GuestLog = {
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
  const print = (text: string) => printed.push(text);
  return {
    root,
    dryRun,
    deadline: Date.now() + 60_000,
    lines,
    printed,
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
    commands: new GuestCommands({ dryRun, log, print, live: options.live ?? true, path: options.path ?? '' }),
  };
}
