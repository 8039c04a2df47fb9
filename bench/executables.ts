// The standalone executables: wall time of dist/linux-x64/mdata-get (socket, pty) next to the Linux
// base's `node -e 0` (hyperfine medians, one run), and each binary's size raw, gzip -9 and xz -6.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NODE_VERSION } from '../build/base-binaries';
import { MetadataHost } from '../test/support/metadata-host';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const root = join(__dirname, '..');
const base = join(root, '.cache', 'node-bases', `node-${NODE_VERSION}-linux-x64-stripped`);
const mdataGet = join(root, 'dist', 'linux-x64', 'mdata-get');
const binaries = [join(root, 'dist', 'linux-x64', 'sdc-guest'), join(root, 'dist', 'win-x64', 'mdata-get.exe')];

/** hyperfine medians in ms, one per command, all measured in one hyperfine run. */
function hyperfine(commands: string[], env: NodeJS.ProcessEnv): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-exe-'));
  const json = join(dir, 'out.json');
  try {
    execFileSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(RUNS), '--style', 'none', '--export-json', json, ...commands], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return JSON.parse(readFileSync(json, 'utf8')).results.map((r: { median: number }) => r.median * 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    console.log(`startup, hyperfine -N median of ${RUNS} runs:`);
    const [node0, version, socket] = hyperfine([`${base} -e 0`, `${mdataGet} --version`, `${mdataGet} user-script`], host.env(false));
    const [pty] = hyperfine([`${mdataGet} user-script`], host.env(true));
    console.log(`  node ${NODE_VERSION} -e 0 (the base)     ${ms(node0)}`);
    console.log(`  mdata-get --version              ${ms(version)}  ${(version / node0).toFixed(2)}x`);
    console.log(`  mdata-get user-script, socket    ${ms(socket)}  ${(socket / node0).toFixed(2)}x  (target <= 1.3x)`);
    console.log(`  mdata-get user-script, pty       ${ms(pty)}  (target < 50 ms; the C client drains 100 ms)`);
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
