import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeIso, type IsoWriteEntry } from '../../lib/iso9660/writer';
import { openIso } from '../../lib/iso9660/reader';
import { sha256 } from '../support/packer';

const work = mkdtempSync(join(tmpdir(), 'iso9660-test-'));
const src = join(work, 'src');
const iso = join(work, 'out', 'tools.iso');
const mtime = new Date(1_700_000_000_000);
const LONG_NAME = 'a-rather-long-file-name-that-only-joliet-and-rock-ridge-can-hold-0123456789.txt';
const DEEP = 'deep/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11';

const files: Record<string, { data: Buffer; mode: number }> = {
  README: { data: Buffer.from('SDC guest tools\n'), mode: 0o644 },
  'linux/usr/sbin/mdata-get': { data: randomBytes(300_000), mode: 0o755 },
  'linux/lib/smartdc/joyent_rc.local': { data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
  'windows/Program Files/café.txt': { data: Buffer.from('café\n'), mode: 0o644 },
  'lower case.txt': { data: Buffer.from('lower\n'), mode: 0o644 },
  [LONG_NAME]: { data: randomBytes(5000), mode: 0o644 },
  ['é'.repeat(100)]: { data: Buffer.from('two hundred UTF-8 bytes of name\n'), mode: 0o600 },
  [`${DEEP}/leaf.txt`]: { data: Buffer.from('deep\n'), mode: 0o644 },
  'zero.bin': { data: Buffer.alloc(0), mode: 0o644 },
  'collision-one.txt': { data: Buffer.from('one\n'), mode: 0o644 },
  'collision-two.txt': { data: Buffer.from('two\n'), mode: 0o644 },
  // Enough records that the directory extents span several sectors.
  ...Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`drivers/virtio driver file ${i}.inf`, { data: Buffer.from(`${i}\n`), mode: 0o644 }])),
};
const HARDLINK = 'linux/usr/sbin/mdata-get-hardlink';
const symlinks: Record<string, string> = {
  'linux/lib/smartdc/mdata-get': '/usr/sbin/mdata-get',
  'linux/rel-link': '../README',
  'long-link': `${'x'.repeat(150)}/`.repeat(3) + 'y'.repeat(250),
};
const fileData = (path: string) => files[path === HARDLINK ? 'linux/usr/sbin/mdata-get' : path].data;
const allFiles = [...Object.keys(files), HARDLINK];
const allDirs = ['deep', 'drivers', 'empty', 'linux', 'linux/lib', 'linux/lib/smartdc', 'linux/usr', 'linux/usr/sbin', 'windows', 'windows/Program Files',
  ...DEEP.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')).slice(1)];

function entries(): IsoWriteEntry[] {
  return [
    ...Object.entries(files).map(([path, { mode }]): IsoWriteEntry => ({ path, type: 'file', source: join(src, path), mode })),
    { path: HARDLINK, type: 'hardlink', target: 'linux/usr/sbin/mdata-get' },
    ...Object.entries(symlinks).map(([path, target]): IsoWriteEntry => ({ path, type: 'symlink', target })),
    { path: 'empty', type: 'dir', mode: 0o755 },
  ];
}

function run(cmd: string, args: string[], encoding: BufferEncoding = 'utf8'): string {
  return execFileSync(cmd, args, { encoding, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, timeout: 60_000, killSignal: 'SIGKILL' });
}

function listTree(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix)).flatMap((name) => {
    const path = prefix ? `${prefix}/${name}` : name;
    return lstatSync(join(root, path)).isDirectory() ? [path, ...listTree(root, path)] : [path];
  }).sort();
}


test.before(async () => {
  for (const [path, { data, mode }] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), data);
    chmodSync(join(src, path), mode);
  }
  linkSync(join(src, 'linux/usr/sbin/mdata-get'), join(src, HARDLINK));
  for (const [path, target] of Object.entries(symlinks)) symlinkSync(target, join(src, path));
  mkdirSync(join(src, 'empty'));
  mkdirSync(dirname(iso));
  await writeIso(iso, entries(), { volumeId: 'SDC Guest Tools', applicationId: 'sdc-vm-tools test', mtime });
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('isoinfo -d: volume id, Joliet and Rock Ridge', () => {
  const out = run('isoinfo', ['-d', '-i', iso]);
  assert.match(out, /^Volume id: SDC Guest Tools$/m);
  assert.match(out, /Joliet with UCS level 3 found/);
  assert.match(out, /Rock Ridge signatures version 1 found/);
  assert.equal(readFileSync(iso).toString('latin1', 16 * 2048 + 1, 16 * 2048 + 6), 'CD001');
});

test('isoinfo -J: Joliet names (long, lower case, spaces, unicode, deep, empty dir)', () => {
  const listed = run('isoinfo', ['-J', '-j', 'iso8859-1', '-f', '-i', iso], 'latin1').trim().split('\n').map((p) => p.slice(1)).sort();
  assert.equal(listed, [...allFiles, ...allDirs].sort());
});

test('isoinfo -R -l: hard link shares the extent, link count 2; primary names are 8.3', () => {
  const out = run('isoinfo', ['-R', '-l', '-i', iso]);
  const rows = [...out.matchAll(/^(\S+)\s+(\d+)\s+0\s+0\s+(\d+) .*\[\s*(\d+) \d+\]\s+(.*?)\s*$/gm)];
  const row = (name: string) => rows.find((r) => r[5] === name && r[1].startsWith('-'))!;
  assert.is(row('mdata-get')[4], row('mdata-get-hardlink')[4]);
  assert.is(row('mdata-get')[2], '2');
  assert.is(row('zero.bin')[4], '0');
  const primary = run('isoinfo', ['-f', '-i', iso]).trim().split('\n');
  for (const path of primary) assert.match(path, /^(\/[A-Z0-9_]{1,8}(\.[A-Z0-9_]{0,3};1)?)+$/);
  assert.ok(primary.includes('/COLLISIO.TXT;1') && primary.includes('/COLLISI1.TXT;1'));
});

test('xorriso: Rock Ridge modes, exec bits, symlinks', () => {
  const out = run('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl']);
  const line = (path: string) => out.split('\n').find((l) => l.includes(`'/${path}'`)) ?? '';
  assert.match(line('linux/usr/sbin/mdata-get'), /^-rwxr-xr-x .* 300000 /);
  assert.match(line('é'.repeat(100)), /^-rw------- /);
  assert.match(line('empty'), /^drwxr-xr-x /);
  assert.match(line('linux/lib/smartdc/mdata-get'), /^lrwxrwxrwx .* -> '\/usr\/sbin\/mdata-get'$/);
  assert.match(line(`${DEEP}/leaf.txt`), /^-rw-r--r-- /);
});

test('7zz x: every file byte-equal', () => {
  const out = join(work, '7zz');
  run('7zz', ['x', `-o${out}`, iso]);
  for (const path of allFiles) assert.ok(readFileSync(join(out, path)).equals(fileData(path)), path);
  assert.equal(readdirSync(join(out, 'empty')), []);
});

test('osirrox -extract: contents, modes, symlinks', () => {
  const out = join(work, 'osirrox');
  run('osirrox', ['-indev', iso, '-extract', '/', out]);
  for (const path of allFiles) {
    assert.ok(readFileSync(join(out, path)).equals(fileData(path)), path);
    assert.is(lstatSync(join(out, path)).mode & 0o777, files[path === HARDLINK ? 'linux/usr/sbin/mdata-get' : path].mode, path);
  }
  for (const [path, target] of Object.entries(symlinks)) assert.is(readlinkSync(join(out, path)), target);
  assert.equal(listTree(out), listTree(src));
});

test('deterministic: same inputs in another order and folder give the same bytes', async () => {
  const again = join(work, 'again', 'tools.iso');
  mkdirSync(dirname(again));
  await writeIso(again, entries().reverse(), { volumeId: 'SDC Guest Tools', applicationId: 'sdc-vm-tools test', mtime });
  assert.is(sha256(again), sha256(iso));
});

test('reader: round trip with Joliet and Rock Ridge names', async () => {
  const joliet = await openIso(iso);
  try {
    assert.is(joliet.names, 'joliet');
    assert.is(joliet.volumeId, 'SDC Guest Tools');
    assert.equal(joliet.entries.map((e) => e.path).sort(), [...allFiles, ...allDirs].sort());
    for (const path of allFiles) assert.ok((await joliet.readFile(path)).equals(fileData(path)), path);
    const copy = join(work, 'copied');
    await joliet.copyFile('linux/usr/sbin/mdata-get', copy);
    assert.ok(readFileSync(copy).equals(fileData('linux/usr/sbin/mdata-get')));
    assert.equal(joliet.entry(HARDLINK)!.extents, joliet.entry('linux/usr/sbin/mdata-get')!.extents);
  } finally {
    await joliet.close();
  }
  const rr = await openIso(iso, { names: 'rockridge' });
  try {
    assert.is(rr.entry('linux/usr/sbin/mdata-get')!.mode, 0o755);
    assert.is(rr.entry('empty')!.type, 'dir');
    for (const [path, target] of Object.entries(symlinks)) assert.equal(rr.entry(path), { ...rr.entry(path)!, type: 'symlink', target });
    assert.equal(rr.entries.map((e) => e.path).sort(), listTree(src));
  } finally {
    await rr.close();
  }
});

for (const [tool, args] of [
  ['genisoimage', ['-quiet', '-J', '-R', '-joliet-long', '-input-charset', 'utf-8', '-V', 'GENISO']],
  ['xorriso', ['-as', 'mkisofs', '-quiet', '-J', '-R', '-joliet-long', '-V', 'XORRISO']],
] as const) {
  test(`reader: reads ${tool} -J -R images (Joliet and Rock Ridge)`, async () => {
    const out = join(work, `${tool}.iso`);
    run(tool, [...args, '-o', out, src]);
    for (const names of ['joliet', 'rockridge'] as const) {
      const image = await openIso(out, { names });
      try {
        const paths = image.entries.map((e) => e.path);
        for (const path of [...allFiles, ...allDirs]) assert.ok(paths.includes(path), `${names}: ${path}`);
        for (const path of allFiles) assert.ok((await image.readFile(path)).equals(fileData(path)), path);
        if (names === 'rockridge') {
          assert.equal(paths.sort(), listTree(src));
          assert.is(image.entry('linux/usr/sbin/mdata-get')!.mode, 0o755);
          for (const [path, target] of Object.entries(symlinks)) {
            // genisoimage cuts symlink targets at about 300 bytes.
            if (!(tool === 'genisoimage' && path === 'long-link')) assert.is(image.entry(path)!.target, target);
          }
        }
      } finally {
        await image.close();
      }
    }
  });
}

test('file over 4 GiB: clear error, nothing left behind', async () => {
  const big = join(work, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 2 ** 32 + 1);
  const dir = join(work, 'big');
  mkdirSync(dir);
  try {
    await writeIso(join(dir, 'big.iso'), [{ path: 'big.bin', type: 'file', source: big }], { volumeId: 'BIG', mtime });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.match(String(err), /big\.bin: 4294967297 bytes is over the ISO 9660 limit of 4 GiB - 1/);
  }
  assert.equal(readdirSync(dir), []);
  rmSync(big);
});

test('bad input: clear errors', async () => {
  const out = join(work, 'bad.iso');
  const attempt = (list: IsoWriteEntry[], volumeId = 'X') => writeIso(out, list, { volumeId, mtime }).then(() => 'ok', (err: Error) => err.message);
  const file = (path: string): IsoWriteEntry => ({ path, type: 'file', source: Buffer.from('x') });
  assert.match(await attempt([file('n'.repeat(104))]), /has 104 characters; Joliet allows at most 103/);
  assert.match(await attempt([file('a/b'), file('a/b')]), /a\/b: already added as a file|duplicate path/);
  assert.match(await attempt([file('a'), file('a/b')]), /'a' is not a directory/);
  assert.match(await attempt([{ path: 'h', type: 'hardlink', target: 'nope' }]), /hard link target 'nope' is not a file/);
  assert.match(await attempt([file('../x')]), /invalid ISO path/);
  assert.match(await attempt([], 'x'.repeat(33)), /volumeId must be at most 32/);
  assert.is(await attempt([file('n'.repeat(103))]), 'ok');
});

test.run();
