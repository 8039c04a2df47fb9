import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const tools = readdirSync(join(root, 'cmd')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));

async function main(): Promise<void> {
  for (const tool of tools) {
    await build({
      entryPoints: [join(root, 'cmd', `${tool}.ts`)],
      outfile: join(root, 'dist', 'node', `${tool}.cjs`),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      legalComments: 'none',
      alias: {
        'node-gyp-build': join(root, 'lib', 'native', 'node-gyp-build-shim.ts'),
        'supports-color': join(root, 'lib', 'native', 'empty-module.ts'),
      },
      logLevel: 'warning',
    });
    console.log(`bundle: dist/node/${tool}.cjs`);
  }
}

main().catch((err) => {
  console.error(`bundle: ${err.message}`);
  process.exit(1);
});
