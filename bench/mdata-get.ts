// Wall time of the mdata-get node bundle over a unix socket and over a pty, next to `node -e 0`.
import { join } from 'node:path';
import { MetadataHost } from '../test/support/metadata-host';
import { bundleCommand } from '../test/support/run-tool';
import { interleavedMedians } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const root = join(__dirname, '..');

async function main(): Promise<void> {
  const host = await new MetadataHost(join(root, 'test', 'fixtures', 'scenario-metadata.json'), join(root, 'test', 'fixtures', 'scenario-vm.json')).start(true);
  try {
    const get = bundleCommand('mdata-get');
    const commands = [
      { name: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
      { name: 'mdata-get over a socket', file: get.file, args: [...get.args, 'user-script'], env: host.env(false) },
      { name: 'mdata-get over a pty', file: get.file, args: [...get.args, 'user-script'], env: host.env(true) },
    ];
    const medians = interleavedMedians(commands, RUNS);
    console.log(`mdata-get (node ${process.version} bundle), ${RUNS} interleaved runs each, median wall time:`);
    commands.forEach((c, i) => console.log(`  ${c.name.padEnd(26)} ${medians[i].toFixed(1).padStart(7)} ms  (${(medians[i] / medians[0]).toFixed(2)}x node -e 0)`));
  } finally {
    await host.close();
  }
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
