// The standalone executables: wall time of dist/linux-x64/mdata-get (socket, pty) next to the Linux
// base's `node -e 0` (interleaved runs, one run), and each binary's size raw, gzip -9 and xz -6.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NODE_VERSION } from '../build/base-binaries';
import { MetadataHost } from '../test/support/metadata-host';
import { interleavedMedians } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
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

async function main(): Promise<void> {
  const fixtures = join(root, 'test', 'fixtures');
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
  try {
    const commands = [
      { name: `node ${NODE_VERSION} -e 0 (the base)`, file: base, args: ['-e', '0'] },
      { name: 'mdata-get --version', file: mdataGet, args: ['--version'] },
      { name: 'mdata-get user-script, socket', file: mdataGet, args: ['user-script'], env: host.env(false) },
      { name: 'mdata-get user-script, pty', file: mdataGet, args: ['user-script'], env: host.env(true) },
    ];
    const [node0, version, socket, pty] = interleavedMedians(commands, RUNS);
    console.log(`startup, median wall time of ${RUNS} interleaved runs:`);
    console.log(`  ${commands[0].name.padEnd(32)} ${ms(node0)}`);
    console.log(`  ${commands[1].name.padEnd(32)} ${ms(version)}  ${(version / node0).toFixed(2)}x`);
    console.log(`  ${commands[2].name.padEnd(32)} ${ms(socket)}  ${(socket / node0).toFixed(2)}x  (target <= 1.3x)`);
    console.log(`  ${commands[3].name.padEnd(32)} ${ms(pty)}  pty - socket ${ms(pty - socket)}  (target < 50 ms; the C client drains 100 ms)`);
  } finally {
    await host.close();
  }
  console.log('sizes (raw, gzip -9, xz -6):');
  const xz = await Promise.all(binaries.map(xzSize));
  binaries.forEach((f, i) => {
    const gz = gzipSync(readFileSync(f), { level: 9 }).length;
    console.log(`  ${f.slice(root.length + 1).padEnd(28)} ${mb(statSync(f).size)} ${mb(gz)} ${mb(xz[i])}`);
  });
}

main().catch((err) => {
  console.error(`bench/executables: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
