// Wall time of the mdata-get node bundle over a unix socket and over a pty, next to `node -e 0`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MetadataHost } from '../test/support/metadata-host';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'node', 'mdata-get.cjs');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args: string[], env: Record<string, string>): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const host = await new MetadataHost(join(root, 'test', 'fixtures', 'scenario-metadata.json'), join(root, 'test', 'fixtures', 'scenario-vm.json')).start(true);
  try {
    const cases: [string, string[], Record<string, string>][] = [
      ['node -e 0', ['-e', '0'], {}],
      ['mdata-get over a socket', [bundle, 'user-script'], host.env(false)],
      ['mdata-get over a pty', [bundle, 'user-script'], host.env(true)],
    ];
    const samples = cases.map(() => [] as number[]);
    for (let i = 0; i < RUNS; i++) cases.forEach(([, args, env], c) => samples[c].push(time(args, env)));
    const base = median(samples[0]);
    console.log(`mdata-get (node ${process.version} bundle), ${RUNS} interleaved runs each, median wall time:`);
    cases.forEach(([name], c) => console.log(`  ${name.padEnd(26)} ${median(samples[c]).toFixed(1).padStart(7)} ms  (${(median(samples[c]) / base).toFixed(2)}x node -e 0)`));
  } finally {
    await host.close();
  }
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
