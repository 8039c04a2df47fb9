import { join } from 'node:path';

/** Native addons the tools use. Each is an N-API module, so one build serves Node 20 and 22. */
export type AddonName = 'serialport' | 'fcntl-lock';

// Both lib/native/ (sources under tsm) and dist/node/ (bundles) sit two levels below the root.
const repoRoot = join(__dirname, '..', '..');

function devAddonPath(name: AddonName): string {
  const plat = `${process.platform}-${process.arch}`;
  if (name === 'serialport') {
    const dir = process.env.SERIALPORT_PREBUILDS ?? join(repoRoot, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds');
    const file = process.platform === 'linux' ? '@serialport+bindings-cpp.glibc.node' : '@serialport+bindings-cpp.node';
    return join(dir, plat, file);
  }
  return join(repoRoot, 'dist', 'native', `${name}-${plat}.node`);
}

const loaded = new Map<AddonName, unknown>();

export function loadAddon<T>(name: AddonName): T {
  if (!loaded.has(name)) {
    const mod = { exports: {} as unknown };
    process.dlopen(mod, devAddonPath(name));
    loaded.set(name, mod.exports);
  }
  return loaded.get(name) as T;
}
