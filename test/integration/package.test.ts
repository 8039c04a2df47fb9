import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNTIME_FILES, WINDOWS_FILES } from '../../build/layout';
import { ROOT, TempDirs, archive, fakeDist, runPacker, sha256, tool, type PackerRun } from '../support/packer';
import { skipTest } from '../support/skip';

const temp = new TempDirs();
const tempDir = (label: string) => temp.make(label);
let dist: string;
let out: string;
let run: PackerRun;
/** Archive path → the file it must be byte-equal to. */
const SOURCES: Record<string, string> = { README: join(ROOT, 'build', 'archive-README.txt') };
for (const name of ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete', 'mdata-server', 'sdc-guest']) {
  SOURCES[`linux/man/man8/${name}.8`] = join(ROOT, 'docs', 'man', `${name}.8`);
}
for (const path of WINDOWS_FILES) SOURCES[path] = join(ROOT, path);

test.before(() => {
  dist = fakeDist(temp);
  out = tempDir('pack');
  run = runPacker(['iso', 'zip', 'tar', '--dist', dist, '--out', out]);
  SOURCES['linux/sdc-guest'] = join(dist, 'linux-x64-runtime', 'sdc-guest');
  SOURCES['linux/runtime/sdc-guest'] = join(dist, 'linux-x64', 'sdc-guest');
  for (const file of RUNTIME_FILES) SOURCES[`linux/runtime/${file}`] = join(dist, 'linux-x64-runtime', 'runtime', file);
  SOURCES['windows/bin/mdata-get.exe'] = join(dist, 'win-x64', 'mdata-get.exe');
});
const WINDOWS_NAMES = ['mdata-get.exe', 'mdata-put.exe', 'mdata-list.exe', 'mdata-delete.exe', 'sdc-guest.exe'];

function assertSameFiles(extracted: string): void {
  for (const [path, source] of Object.entries(SOURCES)) {
    assert.ok(readFileSync(join(extracted, path)).equals(readFileSync(source)), `${path} differs from its source`);
  }
  // SHA256SUMS covers every stored file, and they all check out.
  const sums = tool('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: extracted });
  assert.match(sums, /linux\/sdc-guest: OK/);
  assert.match(sums, /linux\/runtime\/libc\.so\.6: OK/);
  assert.not.match(sums, /FAILED/);
}

test('packs iso, zip and tar.gz with progress lines and a loud no-drivers note', () => {
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /writing .*\.iso/);
  assert.match(run.stdout, /wrote .*\.tar\.gz: [\d.]+ MB/);
  assert.match(run.stdout, /NO VIRTIO DRIVERS/);
  const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
  for (const ext of ['iso', 'zip', 'tar.gz'] as const) {
    const file = archive(out, ext);
    assert.ok(sums.includes(`${sha256(file)}  ${file.slice(out.length + 1)}\n`), `SHA256SUMS lists ${ext}`);
  }
  assert.equal(readdirSync(out).filter((n) => n.startsWith('.')), [], 'no temp files left');
});

test('ISO: volume id, Joliet names, Rock Ridge modes and links, one copy of each executable', () => {
  const iso = archive(out, 'iso');
  assert.match(tool('isoinfo', ['-d', '-i', iso]), /^Volume id: SDC Guest Tools$/m);
  const joliet = tool('isoinfo', ['-J', '-l', '-i', iso]);
  const extents = WINDOWS_NAMES.map((name) => {
    const line = joliet.split('\n').find((l) => l.endsWith(` ${name} `));
    assert.ok(line, `Joliet lists ${name}`);
    return /\[\s*(\d+) 00\]/.exec(line!)![1];
  });
  assert.is(new Set(extents).size, 1, 'the Windows names share one extent');
  assert.match(joliet, / README $/m);
  assert.match(joliet, / mdata-server\.8 $/m);

  const tree = tool('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl'], { env: { TZ: 'UTC' } });
  const line = (path: string) => tree.split('\n').find((l) => l.includes(`'${path}'`)) ?? '';
  assert.match(line('/linux/sdc-guest'), /^-rwxr-xr-x\s+\d+\s+0\s+0\s/);
  assert.match(line('/linux/runtime/sdc-guest'), /^-rwxr-xr-x\s+\d+\s+0\s+0\s/);
  assert.match(line('/linux/runtime/ld-linux-x86-64.so.2'), /^-rwxr-xr-x\s/);
  assert.match(line('/linux/runtime/libc.so.6'), /^-rw-r--r--\s/);
  assert.match(line('/README'), /^-rw-r--r--\s+\d+\s+0\s+0\s/);
  assert.match(line('/windows/bin/mdata-put.exe'), /^-rwxr-xr-x /);
  assert.match(line('/windows/drivers'), /^drwxr-xr-x /);
  assert.match(line('/windows/install.ps1'), /^-rw-r--r-- /);
  assert.match(joliet, / Autounattend\.xml $/m, 'Windows sees the answer files by their own names');
  for (const name of ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete', 'mdata-server']) {
    assert.match(line(`/linux/${name}`), /^lrwxrwxrwx .* -> 'sdc-guest'$/);
  }
  assert.match(line('/README'), / Nov 14 +2023 /, 'mtime is SOURCE_DATE_EPOCH');

  const extracted = tempDir('iso-x');
  tool('7zz', ['x', '-y', `-o${extracted}`, iso]);
  assertSameFiles(extracted);
  for (const name of WINDOWS_NAMES) assert.ok(readFileSync(join(extracted, 'windows/bin', name)).equals(readFileSync(SOURCES['windows/bin/mdata-get.exe'])));
});

test('zip: tests clean, each executable once, modes kept, under sdc-vm-tools/', () => {
  const zip = archive(out, 'zip');
  assert.match(tool('unzip', ['-t', zip]), /No errors detected/);
  const listing = tool('zipinfo', [zip]);
  assert.match(listing, /^-rwxr-xr-x .* sdc-vm-tools\/linux\/sdc-guest$/m);
  assert.match(listing, /^-rwxr-xr-x .* sdc-vm-tools\/linux\/runtime\/sdc-guest$/m);
  assert.match(listing, /^-rwxr-xr-x .* sdc-vm-tools\/windows\/bin\/mdata-get\.exe$/m);
  assert.match(listing, /^-rw-r--r-- .* sdc-vm-tools\/README$/m);
  assert.not.match(listing, /mdata-put\.exe|linux\/mdata-get$/m);
  const extracted = tempDir('zip-x');
  tool('unzip', ['-q', zip, '-d', extracted]);
  assertSameFiles(join(extracted, 'sdc-vm-tools'));
});

test('tar.gz: modes, owners, symlinks and hard links', () => {
  const tgz = archive(out, 'tar.gz');
  const listing = tool('tar', ['-tvzf', tgz], { env: { TZ: 'UTC' } });
  assert.match(listing, /^-rwxr-xr-x root\/root +30000 2023-11-14 22:13 sdc-vm-tools\/linux\/sdc-guest$/m);
  assert.match(listing, /^-rwxr-xr-x root\/root +300000 2023-11-14 22:13 sdc-vm-tools\/linux\/runtime\/sdc-guest$/m);
  assert.match(listing, /^-rw-r--r-- root\/root +1000 2023-11-14 22:13 sdc-vm-tools\/linux\/runtime\/licenses\/glibc\.copyright$/m);
  assert.match(listing, /^-rw-r--r-- root\/root .* sdc-vm-tools\/linux\/man\/man8\/mdata-get\.8$/m);
  assert.match(listing, /^lrwxrwxrwx root\/root .* sdc-vm-tools\/linux\/mdata-get -> sdc-guest$/m);
  assert.match(listing, /^hrwxr-xr-x root\/root .* sdc-vm-tools\/windows\/bin\/mdata-put\.exe link to sdc-vm-tools\/windows\/bin\/mdata-get\.exe$/m);
  assert.match(listing, /^drwxr-xr-x root\/root .* sdc-vm-tools\/windows\/drivers\/$/m);
  const extracted = tempDir('tar-x');
  tool('tar', ['-xzf', tgz, '-C', extracted]);
  const top = join(extracted, 'sdc-vm-tools');
  assertSameFiles(top);
  assert.is(statSync(join(top, 'windows/bin/mdata-put.exe')).ino, statSync(join(top, 'windows/bin/mdata-get.exe')).ino);
  assert.is(statSync(join(top, 'linux/sdc-guest')).mode & 0o777, 0o755);
});

test('reproducible: a second build in another folder gives byte-identical archives', () => {
  const again = tempDir('pack2');
  const second = runPacker(['iso', 'zip', 'tar', '--dist', dist, '--out', again]);
  assert.is(second.status, 0, second.stderr);
  for (const ext of ['iso', 'zip', 'tar.gz'] as const) assert.is(sha256(archive(again, ext)), sha256(archive(out, ext)), ext);
});

test('a missing input is a clear error and writes nothing', () => {
  const empty = tempDir('empty-dist');
  const failed = tempDir('pack-fail');
  const result = runPacker(['iso', '--dist', empty, '--out', failed]);
  assert.is(result.status, 1);
  assert.match(result.stderr, /^package: error: \S+\/linux-x64\/sdc-guest missing: run make build$/m);
  assert.equal(readdirSync(failed), []);
});

test('the real dist/ from make build, when there is one', () => {
  const linux = join(ROOT, 'dist', 'linux-x64', 'sdc-guest');
  const win = join(ROOT, 'dist', 'win-x64', 'mdata-get.exe');
  const launcher = join(ROOT, 'dist', 'linux-x64-runtime', 'sdc-guest');
  if (![linux, win, launcher].every((f) => existsSync(f))) {
    skipTest('real dist/ packing (no dist/linux-x64/sdc-guest, dist/linux-x64-runtime/sdc-guest or dist/win-x64/mdata-get.exe; run make build)');
    return;
  }
  const real = tempDir('pack-real');
  const result = runPacker(['iso', 'zip', 'tar', '--out', real]);
  assert.is(result.status, 0, result.stderr);
  const limits = { iso: 250e6, zip: 90e6, 'tar.gz': 90e6 };
  const sizes = (Object.keys(limits) as (keyof typeof limits)[]).map((ext) => {
    const size = statSync(archive(real, ext)).size;
    assert.ok(size <= limits[ext], `${ext} is ${size} bytes, over ${limits[ext]}`);
    return `${ext} ${(size / 1e6).toFixed(1)} MB`;
  });
  console.log(`\n  real dist/: ${sizes.join(', ')}`);
  const listing = tool('tar', ['-tvzf', archive(real, 'tar.gz')]);
  assert.match(listing, new RegExp(`^-rwxr-xr-x root/root +${statSync(linux).size} .* sdc-vm-tools/linux/runtime/sdc-guest$`, 'm'));
  assert.match(tool('isoinfo', ['-J', '-l', '-i', archive(real, 'iso')]), new RegExp(` ${statSync(win).size} .* mdata-list\\.exe $`, 'm'));
  // Unpacked, the archives' Linux tools start through the launcher and the private glibc.
  const fromTar = tempDir('real-tar-x');
  tool('tar', ['-xzf', archive(real, 'tar.gz'), '-C', fromTar]);
  assert.match(tool(join(fromTar, 'sdc-vm-tools', 'linux', 'mdata-get'), ['--help']), /^Usage: mdata-get /);
  const fromZip = tempDir('real-zip-x');
  tool('unzip', ['-q', archive(real, 'zip'), '-d', fromZip]);
  assert.match(tool(join(fromZip, 'sdc-vm-tools', 'linux', 'sdc-guest'), ['mdata-list', '--help']), /^Usage: mdata-list /);
});

test.after(() => temp.removeAll());

test.run();
