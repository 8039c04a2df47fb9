import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic-write';
import { platform } from '../platform';

/** Native addons the tools use. Each is an N-API module, so one build serves Node 20 and 22. */
type AddonName = 'serialport' | 'fcntl-lock';

function devAddonPath(name: AddonName): string {
  // Both lib/native/ (sources under tsm) and dist/node/ (bundles) sit two levels below the root.
  const repoRoot = join(__dirname, '..', '..');
  const plat = `${process.platform}-${process.arch}`;
  if (name === 'serialport') {
    const dir = join(repoRoot, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds');
    const file = process.platform === 'linux' ? '@serialport+bindings-cpp.glibc.node' : '@serialport+bindings-cpp.node';
    return join(dir, plat, file);
  }
  return join(repoRoot, 'dist', 'native', `${name}-${plat}.node`);
}

/** node:sea when this process is a single executable application, else undefined. */
export function seaModule(): typeof import('node:sea') | undefined {
  try {
    const sea: typeof import('node:sea') = require('node:sea');
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined; // Node before 20.12 has no node:sea
  }
}

/** The sha256 of each embedded addon, by asset name: build/sea.ts records it, so no start hashes the bytes. */
declare const SDC_ADDON_SHA256: Record<string, string> | undefined;

/** Inside a single executable: extract the embedded addon to a content-named file once, then dlopen it. */
function loadFromSea(sea: typeof import('node:sea'), name: AddonName, mod: { exports: unknown }): void {
  const asset = `${name}-${process.platform}-${process.arch}.node`;
  const hash = typeof SDC_ADDON_SHA256 === 'object' ? SDC_ADDON_SHA256[asset] : undefined;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(sea.getRawAsset(asset) as ArrayBuffer);
  } catch {
    throw new Error(`cannot load ${name} addon: this executable has no asset ${asset}`);
  }
  if (!hash) throw new Error(`cannot load ${name} addon: this executable records no sha256 for ${asset}`);
  const uid = process.getuid ? process.getuid() : 'w';
  const failures: string[] = [];
  for (const dir of platform.addonDirs()) {
    const sub = join(dir, `mdata-native-${uid}-${hash.slice(0, 16)}`);
    const file = join(sub, `${name}.node`);
    try {
      mkdirSync(dir, { recursive: true });
      try {
        mkdirSync(sub, { mode: 0o700 }); // not recursive: that reports EROFS as ENOENT
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const st = lstatSync(sub);
      if (!st.isDirectory() || (process.getuid && (st.uid !== process.getuid() || (st.mode & 0o022) !== 0))) {
        throw new Error(`${sub} is not a private directory of this user`);
      }
      // The folder is private and named by the content, and files land by rename: a file of
      // the right size there is complete and ours.
      if (statSync(file, { throwIfNoEntry: false })?.size !== bytes.length) writeFileAtomicSync(file, bytes, { mode: 0o700, durable: false });
      process.dlopen(mod, file);
      return;
    } catch (err) {
      failures.push(`  ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`cannot load ${name} addon:\n${failures.join('\n')}`);
}

const loaded = new Map<AddonName, unknown>();

export function loadAddon<T>(name: AddonName): T {
  if (!loaded.has(name)) {
    const mod = { exports: {} as unknown };
    const sea = seaModule();
    if (sea) loadFromSea(sea, name, mod);
    else process.dlopen(mod, devAddonPath(name));
    loaded.set(name, mod.exports);
  }
  return loaded.get(name) as T;
}
