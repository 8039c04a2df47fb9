import { build } from 'esbuild';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleOptions } from './bundle-options';
import { root, SOURCE_STAMP, sourceCommit, sourceHash } from './common';

async function main(): Promise<void> {
  // Before the build: a source changed while it runs must leave the output stale.
  const stamp = sourceHash();
  const commit = sourceCommit();
  const tools = readdirSync(join(root, 'cmd')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  for (const tool of tools) {
    await build(bundleOptions(`cmd/${tool}.ts`, join(root, 'dist', 'node', `${tool}.cjs`), 'node20', commit));
    console.log(`bundle: dist/node/${tool}.cjs`);
  }
  writeFileSync(join(root, 'dist', 'node', SOURCE_STAMP), `${stamp}\n`);
}

main().catch((err) => {
  console.error(`bundle: ${err.message}`);
  process.exit(1);
});
