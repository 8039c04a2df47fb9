import { join, sep } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';
import { root } from './common';

/** serialport's port listing (`./linux-list`) loads child_process at every start of the serial transport; the tools never list ports. */
const noPortListing: Plugin = {
  name: 'no-serialport-listing',
  setup(build) {
    build.onResolve({ filter: /^\.\/linux-list$/ }, (args) =>
      args.importer.includes(`${sep}@serialport${sep}bindings-cpp${sep}`) ? { path: join(root, 'lib', 'native', 'serialport-list-off.ts') } : undefined,
    );
  },
};

/** esbuild options shared by the node bundles and the executables' main script. */
export function bundleOptions(entry: string, outfile: string, target: string, commit: string): BuildOptions {
  return {
    entryPoints: [join(root, entry)],
    outfile,
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target,
    format: 'cjs',
    legalComments: 'none',
    define: { SDC_BUILD_COMMIT: JSON.stringify(commit) },
    alias: {
      'node-gyp-build': join(root, 'lib', 'native', 'node-gyp-build-shim.ts'),
      debug: join(root, 'lib', 'native', 'debug-off.ts'),
    },
    plugins: [noPortListing],
    logLevel: 'warning',
  };
}
