import type { RootedFiles } from '../context';

/** Where Linux distributions install programs. */
const PROGRAM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin', '/usr/libexec/openssh'];

/** Whether any of the programs is installed under the root (found in the usual folders, not on this process's PATH). */
export async function isInstalled(files: RootedFiles, ...names: string[]): Promise<boolean> {
  for (const name of names) for (const dir of PROGRAM_DIRS) if ((await files.stat(`${dir}/${name}`)) !== null) return true;
  return false;
}
