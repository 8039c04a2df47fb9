/**
 * What goes into the ISO, zip and tar.gz, and where: the one list the packer reads.
 * To ship a new file, add a line here (see docs/packaging.md). Order does not matter.
 *
 * - `built`: a file from the build output folder (`dist/`, or the packer's `--dist`).
 * - `source`: a file from the repository.
 * - `symlink`: a symbolic link (ISO: Rock Ridge; tar). Not in the zip.
 * - `hardlink`: a second name for the file at that archive path, stored once (ISO: same extent; tar:
 *   a hard link entry). Not in the zip: the guest installer makes these names.
 * - `generated`: made by the packer: the VirtIO drivers folder (build/drivers.ts), or SHA256SUMS
 *   with the sha256 of every stored file.
 */
import { LOADER, REQUIREMENTS } from '../lib/install/runtime-names';

export type LayoutEntry =
  | { path: string; built: string; mode: number }
  | { path: string; source: string; mode: number }
  | { path: string; symlink: string }
  | { path: string; hardlink: string }
  | { path: string; generated: 'drivers' | 'sha256sums' };

import { answerFilePaths } from './answer-files';

/** The names the multi-call binaries answer to; build/sea.ts makes the same links in dist/. */
export const LINUX_TOOLS = ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete', 'mdata-server'];
export const WINDOWS_MAIN = 'mdata-get.exe';
export const WINDOWS_TOOL_NAMES = ['mdata-put.exe', 'mdata-list.exe', 'mdata-delete.exe', 'sdc-guest.exe'];

/** The Windows installer and image preparation, from the repository's windows/ folder to the same paths. */
export const WINDOWS_FILES = ['windows/install.bat', 'windows/install.ps1', 'windows/SetupComplete.cmd', 'windows/sysprep/sysprep.bat', ...answerFilePaths()];

/**
 * The private glibc runtime (build/runtime.ts makes it in dist/linux-x64-runtime/runtime/ and
 * checks it against these lists): the loader and the libraries the executable and its addons
 * need, what they need from each, and the licences. Debian's packages decide the licence files.
 */
export const RUNTIME_LIBRARIES = [LOADER, 'libc.so.6', 'libdl.so.2', 'libgcc_s.so.1', 'libm.so.6', 'libpthread.so.0', 'libstdc++.so.6'];
export const RUNTIME_FILES = [
  ...RUNTIME_LIBRARIES,
  REQUIREMENTS,
  'licenses/README',
  'licenses/gcc-12.copyright',
  'licenses/glibc.copyright',
  'licenses/musl.copyright',
  ...['Artistic', 'GFDL-1.2', 'GPL-2', 'GPL-3', 'LGPL-2.1', 'LGPL-3'].map((name) => `licenses/common-licenses/${name}`),
];

export const LAYOUT: LayoutEntry[] = [
  { path: 'README', source: 'build/archive-README.txt', mode: 0o644 },
  { path: 'SHA256SUMS', generated: 'sha256sums' },

  // The launcher runs runtime/sdc-guest through the private glibc: on any guest, from where the archive was unpacked.
  { path: 'linux/sdc-guest', built: 'linux-x64-runtime/sdc-guest', mode: 0o755 },
  { path: 'linux/runtime/sdc-guest', built: 'linux-x64/sdc-guest', mode: 0o755 },
  ...RUNTIME_FILES.map((file) => ({ path: `linux/runtime/${file}`, built: `linux-x64-runtime/runtime/${file}`, mode: file === LOADER ? 0o755 : 0o644 })),
  ...LINUX_TOOLS.map((tool) => ({ path: `linux/${tool}`, symlink: 'sdc-guest' })),
  ...LINUX_TOOLS.map((tool) => ({ path: `linux/man/man8/${tool}.8`, source: `docs/man/${tool}.8`, mode: 0o644 })),
  { path: 'linux/man/man8/sdc-guest.8', source: 'docs/man/sdc-guest.8', mode: 0o644 },

  { path: `windows/bin/${WINDOWS_MAIN}`, built: `win-x64/${WINDOWS_MAIN}`, mode: 0o755 },
  ...WINDOWS_TOOL_NAMES.map((name) => ({ path: `windows/bin/${name}`, hardlink: `windows/bin/${WINDOWS_MAIN}` })),
  { path: 'windows/drivers', generated: 'drivers' },
  ...WINDOWS_FILES.map((path) => ({ path, source: path, mode: 0o644 })),
];
