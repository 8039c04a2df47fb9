// The standalone executables, in one run:
// - wall time of mdata-get (socket, pty) next to the Linux base's `node -e 0`, outside and inside
//   a chroot that has no C library (the private glibc runtime; root only), interleaved;
// - the start-up targets, as same-round ratios;
// - each binary's raw, gzip -9 and xz -6 size, and (BENCH_SIZES=0 skips these)
// - what the private runtime adds to each archive: the packer run on the real dist/ and on a copy
//   whose launcher and runtime files are empty, the difference per archive.
import { execFile, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NODE_VERSION } from '../build/base-binaries';
import { RUNTIME_FILES } from '../build/layout';
import { ChrootGuest, chrootUnavailable } from '../test/support/chroot-guest';
import { MetadataHost } from '../test/support/metadata-host';
import { interleavedSamples, median, pairedRatio, type TimedCommand } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const root = join(__dirname, '..');
const dist = join(root, 'dist');
const base = join(root, '.cache', 'node-bases', `node-${NODE_VERSION}-linux-x64-stripped`);
const mdataGet = join(dist, 'linux-x64', 'mdata-get');
const binaries = [join(dist, 'linux-x64', 'sdc-guest'), join(dist, 'win-x64', 'mdata-get.exe')];
const KEY = 'user-script';

function xzSize(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', 'xz -6 -T1 -c "$0" | wc -c', file], (err, stdout) => (err ? reject(err) : resolve(Number(stdout))));
  });
}

const ms = (n: number): string => `${n.toFixed(1).padStart(7)} ms`;
const mb = (n: number): string => `${(n / 1e6).toFixed(1).padStart(6)} MB`;

async function startup(): Promise<void> {
  const unavailable = chrootUnavailable();
  const guest = unavailable ? undefined : new ChrootGuest();
  const fixtures = join(root, 'test', 'fixtures');
  let host: MetadataHost | undefined;
  // The launcher under the tool's name (`sdc-guest mdata-get` would load the guest tools too).
  const links = mkdtempSync(join(tmpdir(), 'sdc-bench-'));
  const launched = join(links, 'mdata-get');
  symlinkSync(join(dist, 'linux-x64-runtime', 'sdc-guest'), launched);
  try {
    await guest?.start();
    // The host's socket and pty link must be at the same path inside the chroot.
    if (guest) process.env.TMPDIR = guest.share;
    host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
    const commands: TimedCommand[] = [
      { name: `node ${NODE_VERSION} -e 0 (the base)`, file: base, args: ['-e', '0'] },
      { name: 'mdata-get --version', file: mdataGet, args: ['--version'] },
    ];
    for (const pty of [false, true]) {
      const how = pty ? 'pty' : 'socket';
      const env = host.env(pty);
      commands.push({ name: `${how}: mdata-get, direct`, file: mdataGet, args: [KEY], env });
      commands.push({ name: `${how}: launcher + private glibc`, file: launched, args: [KEY], env });
      if (guest) {
        const wrapped = (path: string, root?: string) => {
          const { file, args } = guest.inside(path, root);
          return { file, args: [...args, KEY] };
        };
        // The same nsenter + chroot around the direct executable: what the wrapper itself costs.
        commands.push({ name: `${how}: nsenter+chroot /, direct`, ...wrapped(mdataGet, '/'), env });
        commands.push({ name: `${how}: in the no-libc chroot`, ...wrapped('/usr/sbin/mdata-get'), env });
      }
    }
    const samples = interleavedSamples(commands, RUNS);
    const wall = samples.wall.map(median);
    const { cpu } = samples;
    console.log(`startup of ${RUNS} interleaved runs: median wall time, and mean CPU time (user + system), which the`);
    console.log(`load of a shared machine hardly touches${guest ? '' : ` (no chroot: ${unavailable})`}:`);
    commands.forEach((c, i) => console.log(`  ${c.name.padEnd(36)} ${ms(wall[i])} ${(wall[i] / wall[0]).toFixed(2)}x   cpu ${ms(cpu[i])}`));
    const at = (name: string) => commands.findIndex((c) => c.name === name);
    const ratio = (a: string, b: string) => `wall ${(wall[at(a)] / wall[at(b)]).toFixed(3)}, cpu ${(cpu[at(a)] / cpu[at(b)]).toFixed(3)}`;
    for (const how of ['socket', 'pty']) {
      console.log(`  ${how}: private runtime / direct: ${ratio(`${how}: launcher + private glibc`, `${how}: mdata-get, direct`)}`);
      if (guest) console.log(`  ${how}: no-libc chroot / the same wrapper outside: ${ratio(`${how}: in the no-libc chroot`, `${how}: nsenter+chroot /, direct`)}`);
    }
    console.log('start-up targets (each ratio: the median of the ratios within a round):');
    const round = (name: string) => samples.wall[at(name)];
    const targets = [
      ['--version / base', pairedRatio(round('mdata-get --version'), samples.wall[0]), 1.05],
      ['socket get / --version', pairedRatio(round('socket: mdata-get, direct'), round('mdata-get --version')), 1.1],
      ['pty get / --version', pairedRatio(round('pty: mdata-get, direct'), round('mdata-get --version')), 1.2],
    ] as const;
    for (const [name, ratio, target] of targets) {
      console.log(`  ${name.padEnd(32)} ${ratio.toFixed(3).padStart(7)}x  target <= ${target.toFixed(2)}x  ${ratio <= target ? 'met' : 'NOT met'}`);
    }
  } finally {
    await host?.close();
    await guest?.close();
    rmSync(links, { recursive: true, force: true });
  }
}

/** Sizes of the three archives the packer makes from `distDir`, by extension. */
function pack(distDir: string, out: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['-r', 'tsm', join(root, 'build', 'package.ts'), 'iso', 'zip', 'tar', '--dist', distDir, '--out', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`packer failed: ${r.stderr}`);
  const sizes: Record<string, number> = {};
  for (const ext of ['iso', 'zip', 'tar.gz']) sizes[ext] = statSync(join(out, readdirSync(out).find((n) => n.endsWith(`.${ext}`))!)).size;
  return sizes;
}

async function archiveCost(): Promise<void> {
  mkdirSync(join(root, '.cache'), { recursive: true });
  const work = mkdtempSync(join(root, '.cache', 'bench-archives-'));
  try {
    // The same dist/, but the launcher and the runtime's files empty: the archives' difference is the runtime.
    const hollow = join(work, 'dist');
    for (const file of ['linux-x64/sdc-guest', 'win-x64/mdata-get.exe']) {
      mkdirSync(dirname(join(hollow, file)), { recursive: true });
      linkSync(join(dist, file), join(hollow, file));
    }
    for (const file of ['sdc-guest', ...RUNTIME_FILES.map((f) => `runtime/${f}`)]) {
      mkdirSync(dirname(join(hollow, 'linux-x64-runtime', file)), { recursive: true });
      writeFileSync(join(hollow, 'linux-x64-runtime', file), '');
    }
    const real = pack(dist, join(work, 'real'));
    const without = pack(hollow, join(work, 'hollow'));
    const raw = ['sdc-guest', ...RUNTIME_FILES.map((f) => `runtime/${f}`)].reduce((sum, f) => sum + statSync(join(dist, 'linux-x64-runtime', f)).size, 0);
    console.log(`the private runtime (launcher, ${RUNTIME_FILES.length} files, ${mb(raw).trim()} raw) adds to each archive:`);
    for (const ext of Object.keys(real)) console.log(`  ${ext.padEnd(7)} ${mb(real[ext] - without[ext])} of ${mb(real[ext])}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await startup();
  if (process.env.BENCH_SIZES === '0') return;
  console.log('sizes (raw, gzip -9, xz -6):');
  const xz = await Promise.all(binaries.map(xzSize));
  binaries.forEach((f, i) => {
    const gz = gzipSync(readFileSync(f), { level: 9 }).length;
    console.log(`  ${f.slice(root.length + 1).padEnd(28)} ${mb(statSync(f).size)} ${mb(gz)} ${mb(xz[i])}`);
  });
  await archiveCost();
}

main().catch((err) => {
  console.error(`bench/executables: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
