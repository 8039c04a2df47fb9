// Builds the single executables (toolchain.md §4): dist/linux-x64/sdc-guest (+ links) and dist/win-x64/mdata-get.exe (+ links).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { NODE_VERSION, prepareBases } from './base-binaries';

// postject ships no types; this is the part of its API used here.
const { inject } = require('postject') as {
  inject(file: string, resource: string, data: Buffer, options: { sentinelFuse: string; overwrite: boolean }): Promise<void>;
};

const root = join(__dirname, '..');
const out = process.argv[2] === '--out' && process.argv[3] ? resolve(process.argv[3]) : join(root, 'dist');
const cache = join(root, '.cache');
const work = join(cache, 'sea-work');
const stampFile = join(cache, 'sea-stamp.json');

const LINUX_LINKS = ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete', 'mdata-server'];
const WIN_MAIN = 'mdata-get.exe';
const WIN_LINKS = ['mdata-put.exe', 'mdata-list.exe', 'mdata-delete.exe'];
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const started = Date.now();
function log(msg: string): void {
  console.log(`sea: [${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const mb = (file: string): string => `${(statSync(file).size / 1e6).toFixed(2)} MB`;

function sourceCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Copies the addons into the work dir under their asset names, so sea-config holds only relative paths. */
function copyAssets(): Record<string, string> {
  const prebuilds = join(root, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds');
  const sources: Record<string, string> = {
    'serialport-linux-x64.node': join(prebuilds, 'linux-x64', '@serialport+bindings-cpp.glibc.node'),
    'serialport-win32-x64.node': join(prebuilds, 'win32-x64', '@serialport+bindings-cpp.node'),
    'fcntl-lock-linux-x64.node': join(root, 'dist', 'native', 'fcntl-lock-linux-x64.node'),
  };
  const assets: Record<string, string> = {};
  for (const [name, src] of Object.entries(sources)) {
    if (!existsSync(src)) throw new Error(`missing ${relative(root, src)} (run \`make native\` / \`npm ci\` first)`);
    copyFileSync(src, join(work, name));
    assets[name] = name;
  }
  return assets;
}

async function injectInto(base: string, blob: Buffer, dest: string, verify: (file: string) => void = () => undefined): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    copyFileSync(base, tmp);
    await inject(tmp, 'NODE_SEA_BLOB', blob, { sentinelFuse: SENTINEL_FUSE, overwrite: true });
    chmodSync(tmp, 0o755);
    verify(tmp);
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The official bases are non-PIE, which postject#108 (LIEF rewriting .dynsym) does not hit; make sure. */
function sameDynamicSymbols(base: string): (file: string) => void {
  const symbols = (f: string): string => execFileSync('nm', ['-D', '--defined-only', f], { maxBuffer: 1 << 28 }).toString();
  const expected = symbols(base);
  return (file) => {
    if (symbols(file) !== expected) throw new Error('injection changed the dynamic symbols (nodejs/postject#108)');
  };
}

function relink(dir: string, target: string, names: string[], kind: 'symlink' | 'hardlink'): void {
  for (const name of names) {
    rmSync(join(dir, name), { force: true });
    if (kind === 'symlink') symlinkSync(target, join(dir, name));
    else linkSync(join(dir, target), join(dir, name));
  }
}

async function main(): Promise<void> {
  const bases = prepareBases(join(cache, 'node-bases'), log);
  log(`bases ready: node ${NODE_VERSION} linux ${mb(bases.linux)}, win ${mb(bases.win)}`);

  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const commit = sourceCommit();
  await build({
    entryPoints: [join(root, 'cmd', 'sdc-guest.ts')],
    outfile: join(work, 'main.js'),
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    legalComments: 'none',
    define: { SDC_BUILD_COMMIT: JSON.stringify(commit) },
    alias: {
      'node-gyp-build': join(root, 'lib', 'native', 'node-gyp-build-shim.ts'),
      'supports-color': join(root, 'lib', 'native', 'empty-module.ts'),
    },
    logLevel: 'warning',
  });
  log(`bundled cmd/sdc-guest.ts (commit ${commit}): ${mb(join(work, 'main.js'))}`);

  const seaConfig = {
    main: 'main.js',
    output: 'prep.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    execArgvExtension: 'none',
    assets: copyAssets(),
  };
  writeFileSync(join(work, 'sea-config.json'), `${JSON.stringify(seaConfig, null, 2)}\n`);
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  execFileSync(bases.linux, ['--experimental-sea-config', 'sea-config.json'], { cwd: work, env, stdio: 'pipe' });
  const blob = readFileSync(join(work, 'prep.blob'));
  log(`SEA blob generated by the Linux base: ${(blob.length / 1e6).toFixed(1)} MB`);

  const linuxDir = join(out, 'linux-x64');
  const winDir = join(out, 'win-x64');
  const outputs = [join(linuxDir, 'sdc-guest'), join(winDir, WIN_MAIN)];
  // Skip the slow injections when the blob, the bases and this script are unchanged and the outputs are intact.
  const key = createHash('sha256').update(blob).update(sha256(bases.linux)).update(sha256(bases.win)).update(readFileSync(__filename)).digest('hex');
  let stamp: { key?: string; outputs?: Record<string, string> } = {};
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    // first build
  }
  const upToDate = stamp.key === key && outputs.every((f) => existsSync(f) && stamp.outputs?.[f] === sha256(f));
  if (upToDate) {
    log('inputs unchanged, executables up to date');
  } else {
    mkdirSync(linuxDir, { recursive: true });
    mkdirSync(winDir, { recursive: true });
    log('injecting into the Linux base (postject; its LIEF ".note" warnings are harmless)');
    await injectInto(bases.linux, blob, outputs[0], sameDynamicSymbols(bases.linux));
    log('dynamic symbols unchanged (nm -D)');
    log('injecting into the Windows base (postject)');
    await injectInto(bases.win, blob, outputs[1]);
  }
  relink(linuxDir, 'sdc-guest', LINUX_LINKS, 'symlink');
  relink(winDir, WIN_MAIN, WIN_LINKS, 'hardlink');
  const hashes: Record<string, string> = {};
  for (const f of outputs) {
    hashes[f] = sha256(f);
    log(`${relative(root, f)}: ${statSync(f).size} bytes, sha256 ${hashes[f]}`);
  }
  writeFileSync(stampFile, `${JSON.stringify({ key, outputs: hashes }, null, 2)}\n`);
  log(`links: ${LINUX_LINKS.join(' ')} -> sdc-guest; ${WIN_LINKS.join(' ')} = ${WIN_MAIN}`);
}

main().catch((err) => {
  console.error(`sea: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
