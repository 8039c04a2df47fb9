import type { RootedFiles } from './context';
import { guestDirname } from './files';

/** Where `sdc-guest boot` records what ran on Linux, under the root (Windows: lib/guest/windows/paths.ts). */
export const STATE_FILE = '/var/lib/sdc-guest/state.json';

/**
 * `staged`: a script written for `sdc-guest boot-scripts`, which records how it ended. `started`:
 * a script that was running when this was written; if the record stays so (the script restarted
 * the guest), a once-per-instance script is not run again.
 */
export type Result = 'ok' | 'failed' | 'skipped' | 'staged' | 'started';

export interface ActionRecord {
  /** ISO time of the run. */
  at: string;
  result: Result;
  detail: string;
}

/**
 * The one record of the guest tools' runs: the instance (`sdc:uuid`) it belongs to and, per
 * action, its last result. First-boot actions that succeeded for this instance are not run
 * again; a new `sdc:uuid` (an image cloned into a new instance) starts over.
 */
export interface BootState {
  instance: string | null;
  actions: Record<string, ActionRecord>;
}

export async function loadState(files: RootedFiles, path: string): Promise<BootState> {
  const text = await files.readText(path);
  if (text === null) return { instance: null, actions: {} };
  try {
    const parsed = JSON.parse(text) as Partial<BootState>;
    return { instance: typeof parsed.instance === 'string' ? parsed.instance : null, actions: isRecordMap(parsed.actions) ? parsed.actions : {} };
  } catch {
    // A damaged state file means: nothing is known to have run.
    return { instance: null, actions: {} };
  }
}

function isRecordMap(value: unknown): value is Record<string, ActionRecord> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function saveState(files: RootedFiles, state: BootState, path: string): Promise<void> {
  await files.mkdir(guestDirname(path), 0o755);
  await files.write(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
}
