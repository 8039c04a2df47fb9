// The standalone executables: start-up of dist/linux-x64/mdata-get next to the Linux base's
// `node -e 0` (interleaved runs, one run), the start-up targets as ratios, and each binary's size
// raw, gzip -9 and xz -6.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NODE_VERSION } from '../build/base-binaries';
import { MetadataHost } from '../test/support/metadata-host';
import { interleavedSamples, median, pairedRatio } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const root = join(__dirname, '..');
const base = join(root, '.cache', 'node-bases', `node-${NODE_VERSION}-linux-x64-stripped`);
const mdataGet = join(root, 'dist', 'linux-x64', 'mdata-get');
const binaries = [join(root, 'dist', 'linux-x64', 'sdc-guest'), join(root, 'dist', 'win-x64', 'mdata-get.exe')];

function xzSize(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', 'xz -6 -T1 -c "$0" | wc -c', file], (err, stdout) => (err ? reject(err) : resolve(Number(stdout))));
  });
}

const ms = (n: number): string => `${n.toFixed(1).padStart(7)} ms`;
const mb = (n: number): string => `${(n / 1e6).toFixed(1).padStart(6)} MB`;

async function startup(): Promise<void> {
  const fixtures = join(root, 'test', 'fixtures');
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
  try {
    const commands = [
      { name: `base: node ${NODE_VERSION} -e 0`, file: base, args: ['-e', '0'] },
      { name: 'mdata-get --version', file: mdataGet, args: ['--version'] },
      { name: 'mdata-get user-script, socket', file: mdataGet, args: ['user-script'], env: host.env(false) },
      { name: 'mdata-get user-script, pty', file: mdataGet, args: ['user-script'], env: host.env(true) },
    ];
    const [node0, version, socket, pty] = interleavedSamples(commands, RUNS);
    console.log(`start-up, median wall time of ${RUNS} interleaved runs:`);
    commands.forEach((c, i) => console.log(`  ${c.name.padEnd(32)} ${ms(median([node0, version, socket, pty][i]))}`));
    console.log('targets (each ratio: the median of the ratios within a round):');
    const targets = [
      ['--version / base', pairedRatio(version, node0), 1.05],
      ['socket get / --version', pairedRatio(socket, version), 1.1],
      ['pty get / --version', pairedRatio(pty, version), 1.2],
    ] as const;
    for (const [name, ratio, target] of targets) {
      console.log(`  ${name.padEnd(32)} ${ratio.toFixed(3).padStart(7)}x  target <= ${target.toFixed(2)}x  ${ratio <= target ? 'met' : 'NOT met'}`);
    }
  } finally {
    await host.close();
  }
}

async function sizes(): Promise<void> {
  console.log('sizes (raw, gzip -9, xz -6):');
  const xz = await Promise.all(binaries.map(xzSize));
  binaries.forEach((f, i) => {
    const gz = gzipSync(readFileSync(f), { level: 9 }).length;
    console.log(`  ${f.slice(root.length + 1).padEnd(28)} ${mb(statSync(f).size)} ${mb(gz)} ${mb(xz[i])}`);
  });
}

async function main(): Promise<void> {
  await startup();
  if (process.env.BENCH_SIZES !== '0') await sizes();
}

main().catch((err) => {
  console.error(`bench/executables: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
