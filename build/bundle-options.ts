import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { root } from './common';

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
    logLevel: 'warning',
  };
}
