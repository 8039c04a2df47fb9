import type { RootedFiles } from '../guest/context';

/** Where the installer keeps its record and the backups, under the root (beside boot's state file). */
export const INSTALL_DIR = '/var/lib/sdc-guest';
export const MANIFEST_FILE = `${INSTALL_DIR}/install.json`;
export const BACKUP_DIR = `${INSTALL_DIR}/backup`;

/** What was at a path before the first install put something there. */
export type Previous =
  | { type: 'none' }
  | { type: 'link'; target: string }
  /** A file, copied to `backup` (under BACKUP_DIR) with its mode and owner. */
  | { type: 'file'; backup: string; mode: number; uid: number; gid: number };

/**
 * One change install made, and how uninstall takes it back:
 * - `dir`: a folder it created; removed when empty.
 * - `file`, `link`: a file or symbolic link it put in place; the previous one comes back.
 * - `edit`: a line it added to a file it does not own (rc.local). The previous file comes back
 *   when nobody changed the file since (its sha256 is still `written`); otherwise only the line
 *   is taken out, so later edits stay.
 * - `enabled`: the link `systemctl enable` made for a unit; `systemctl disable` removes it.
 */
export type Entry =
  | { kind: 'dir'; path: string }
  | { kind: 'file' | 'link'; path: string; previous: Previous }
  | { kind: 'edit'; path: string; line: string; written: string | null; previous: Previous }
  | { kind: 'enabled'; path: string; unit: string };

export interface Manifest {
  format: 1;
  /** The version that last installed, as `--version` prints it. */
  version: string;
  /** ISO time of the last install. */
  installed: string;
  /** In the order they were made; uninstall takes them back in reverse. */
  entries: Entry[];
}

export async function loadManifest(files: RootedFiles): Promise<Manifest | null> {
  const text = await files.readText(MANIFEST_FILE);
  if (text === null) return null;
  let parsed: Partial<Manifest>;
  try {
    parsed = JSON.parse(text) as Partial<Manifest>;
  } catch {
    throw new Error(`${MANIFEST_FILE} is damaged (not JSON); move it away to install afresh`);
  }
  if (parsed.format !== 1 || !Array.isArray(parsed.entries)) throw new Error(`${MANIFEST_FILE} has an unknown format`);
  return parsed as Manifest;
}

export async function saveManifest(files: RootedFiles, manifest: Manifest): Promise<void> {
  await files.write(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
}
