// Names in the private glibc runtime folder (`runtime/` beside the launcher), shared by the
// installer (lib/install/runtime.ts) and the build (build/runtime.ts, build/layout.ts); the
// launcher (lib/native/launcher.c) spells LOADER too. No imports, so the build's file lists can
// take them without loading the installer.

/** The private loader's name; the launcher starts `runtime/<LOADER>`. */
export const LOADER = 'ld-linux-x86-64.so.2';
/** In the runtime folder: what the executable and its addons need, written by the build. */
export const REQUIREMENTS = 'requirements.json';
