import { loadAddon } from './load-addon';

/** Stands in for `node-gyp-build` in bundles: serialport's bindings come from loadAddon. */
export default function nodeGypBuild(): unknown {
  return loadAddon('serialport');
}
