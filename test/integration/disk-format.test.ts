import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSecondaryDisk, UsageError } from '../../lib/disk/format-secondary-disk';
import { findSignatures, readSnapshot } from '../../lib/disk/signatures';
import { openDisk } from '../../lib/disk/device';
import { blankImage, fixtures, imageHash, sh } from '../support/disk-images';
import { guestRoot, mountinfoLine, writeSysBlock, type GuestRoot } from '../support/disk-root';
import { testContext } from '../support/guest-context';
import { makeStubs, type StubBehaviour } from '../support/stubs';

const work = mkdtempSync(join(tmpdir(), 'disk-format-'));
let n = 0;

const GiB = 1024 ** 3;

/** A guest root whose vdb is `image` (moved into <root>/dev/vdb). */
function guestWithDisk(image: (path: string) => void, size: number, options: { extraMounts?: string; vdb?: Partial<Parameters<typeof writeSysBlock>[1][0]> } = {}): GuestRoot {
  const g = guestRoot(join(work, `case-${++n}`), options.extraMounts);
  image(join(g.root, 'dev/vdb'));
  writeSysBlock(g.root, [
    { name: 'vda', dev: '254:0', sizeBytes: 10 * GiB },
    { name: 'vdb', dev: '254:16', sizeBytes: size, ...options.vdb },
  ]);
  return g;
}

const hash = imageHash;

async function run(g: GuestRoot, options: { dryRun?: boolean; device?: string; fs?: 'ext4' | 'xfs'; mountPoint?: string; path?: string } = {}) {
  const ctx = testContext(g.root, {}, { dryRun: options.dryRun, path: options.path ?? g.path });
  const code = await formatSecondaryDisk(ctx, { device: options.device, fs: options.fs ?? 'ext4', mountPoint: options.mountPoint ?? '/data' });
  return { code, log: [...ctx.lines, ...ctx.printed].join('\n'), ran: ctx.ran };
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test('a blank disk gets one aligned GPT partition, ext4 with scaled reserved blocks, an fstab line by UUID and a mount', async () => {
  const g = guestWithDisk((p) => blankImage(p, '2G'), 2 * GiB);
  const image = join(g.root, 'dev/vdb');
  const r = await run(g);
  assert.is(r.code, 0, r.log);

  const table = JSON.parse(sh('sfdisk', ['--json', image])).partitiontable;
  assert.is(table.label, 'gpt');
  assert.is(table.partitions.length, 1);
  const [p] = table.partitions;
  assert.is(p.start, 2048);
  assert.is((p.start * 512) % (1024 * 1024), 0);
  assert.is(((p.start + p.size) * 512) % (1024 * 1024), 0, 'the end is on a MiB boundary too');
  assert.ok(p.start + p.size - 1 <= table.lastlba);
  assert.is(p.type, '0FC63DAF-8483-4772-8E79-3D69D8477DE4');
  assert.is(p.name, 'sdc-data');

  const probe = Object.fromEntries(sh('blkid', ['-p', '-O', '1048576', '-o', 'export', image]).trim().split('\n').map((l) => l.split('=')));
  assert.is(probe.TYPE, 'ext4');
  assert.is(probe.LABEL, 'sdc-data');

  const dump = sh('dumpe2fs', ['-h', `${image}?offset=1048576`]);
  const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(dump)![1];
  assert.is(field('Filesystem UUID'), probe.UUID);
  const reserved = Number(field('Reserved block count')) / Number(field('Block count'));
  assert.ok(Math.abs(reserved - 0.005) < 0.0002, `reserved share ${reserved} for a 2 GiB disk`);
  assert.is(field('Maximum mount count'), '-1');
  assert.match(field('Check interval'), /^15552000 /);
  assert.is(Number(field('Block count')) * Number(field('Block size')), p.size * 512, 'the file system fills the partition');

  const fstab = readFileSync(join(g.root, 'etc/fstab'), 'utf8');
  assert.match(fstab, '/dev/vda / ext4 errors=remount-ro 0 1\n', 'the existing lines are kept');
  assert.is(fstab.split('\n').filter((l) => l.includes('/data')).join('\n'), `UUID=${probe.UUID} /data ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2`);
  assert.ok(statSync(join(g.root, 'data')).isDirectory());
  const recorded = g.calls();
  assert.equal(recorded.filter((l) => l.startsWith('udevadm')), ['udevadm settle --timeout=30', 'udevadm settle --timeout=30']);
  assert.equal(recorded.filter((l) => l.startsWith('mount')), [`mount -t ext4 -o loop,offset=1048576,sizelimit=${p.size * 512} ${image} ${join(g.root, 'data')}`]);
  assert.not.match(r.log, /sleep/);

  // Idempotent: the second run recognises its own disk, touches no byte, adds no fstab line, mounts again.
  const before = hash(image);
  const again = await run(g);
  assert.is(again.code, 0, again.log);
  assert.is(hash(image), before);
  assert.is(readFileSync(join(g.root, 'etc/fstab'), 'utf8'), fstab);
  assert.match(again.log, `holds our ext4 file system (UUID ${probe.UUID})`);
  assert.is(again.ran.filter((c) => ['sfdisk', 'mkfs.ext4', 'tune2fs'].includes(c[0])).length, 0);

  // Interrupted before fstab: a later boot finishes the entry without writing to the disk.
  writeFileSync(join(g.root, 'etc/fstab'), fstab.split('\n').filter((l) => !l.includes('/data')).join('\n'));
  const finish = await run(g);
  assert.is(finish.code, 0, finish.log);
  assert.is(hash(image), before);
  assert.is(readFileSync(join(g.root, 'etc/fstab'), 'utf8').split('\n').filter((l) => l.includes(`UUID=${probe.UUID}`)).length, 1);
});

test('reserved blocks follow the size steps of the original tools', async () => {
  const g = guestWithDisk((p) => blankImage(p, '20G'), 20 * GiB);
  const r = await run(g);
  assert.is(r.code, 0, r.log);
  const dump = sh('dumpe2fs', ['-h', `${join(g.root, 'dev/vdb')}?offset=1048576`]);
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(dump)![1]);
  const share = count('Reserved block count') / count('Block count');
  assert.ok(Math.abs(share - 0.0025) < 0.0001, `20 GiB: ${share}`);
});

test('a dry run lists every command and changes nothing', async () => {
  const g = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  const image = join(g.root, 'dev/vdb');
  const fstab = readFileSync(join(g.root, 'etc/fstab'), 'utf8');
  const before = hash(image);
  const r = await run(g, { dryRun: true });
  assert.is(r.code, 0, r.log);
  for (const command of ['sfdisk', 'udevadm settle', 'mkfs.ext4 -L sdc-data -U', 'tune2fs -c 0 -i 6m', 'mount -t ext4']) assert.match(r.log, `would run: ${command}`);
  assert.match(r.log, 'would create /data');
  assert.match(r.log, 'would write /etc/fstab');
  assert.is(hash(image), before);
  assert.is(readFileSync(join(g.root, 'etc/fstab'), 'utf8'), fstab);
  assert.not.ok(existsSync(join(g.root, 'data')));
  assert.equal(g.calls(), []);
  assert.equal(r.ran.map((c) => c[0]).sort(), ['blkid', 'wipefs'], 'only the read-only probes ran');
});

for (const fixture of fixtures(join(work, 'fixtures'))) {
  test(`a disk holding ${fixture.name} is left byte for byte unchanged`, async () => {
    const g = guestWithDisk((p) => fixture.make(p), 256 * 1024 * 1024);
    const image = join(g.root, 'dev/vdb');
    const blkid = sh('sh', ['-c', `blkid -p -o export '${image}'; true`]);
    if (fixture.blkid) assert.match(blkid, new RegExp(`^(PT)?TYPE=${fixture.blkid}$`, 'm'), 'blkid agrees the fixture is real');
    const opened = await openDisk(image);
    const findings = findSignatures(await readSnapshot(opened.source(opened.fileSize)).finally(() => opened.close()));
    if (fixture.type) assert.ok(findings.some((f) => f.type === fixture.type), `our reader: ${JSON.stringify(findings)}`);
    else assert.is(findings.length, 0);
    const before = hash(image);
    const size = statSync(image).size;
    const r = await run(g);
    assert.is(r.code, 0, r.log);
    assert.match(r.log, 'leaving /dev/vdb alone');
    if (fixture.type) assert.match(r.log, `${fixture.type} signature`);
    else assert.match(r.log, 'non-zero data at byte 200000');
    assert.is(hash(image), before);
    assert.is(statSync(image).size, size);
    assert.equal(g.calls(), []);
    assert.not.match(readFileSync(join(g.root, 'etc/fstab'), 'utf8'), '/data');
  });
}

test('the second opinion alone keeps a disk: a blkid that sees something, a wipefs that fails', async () => {
  const cases: Array<[string, StubBehaviour]> = [
    ['blkid', { stdout: 'TYPE=mystery\n' }],
    ['blkid', { exit: 4 }],
    ['wipefs', { stdout: 'mystery 0x0\n' }],
    ['wipefs', { script: 'echo "cannot open" >&2', exit: 1 }],
  ];
  for (const [tool, how] of cases) {
    const g = guestWithDisk((p) => blankImage(p, '1G'), GiB);
    // Before the real one on PATH, in a folder of its own: its calls are not the guest root's.
    const opinion = makeStubs({ [tool]: how }, join(g.stubs, '..', `${tool}-stub`));
    const before = hash(join(g.root, 'dev/vdb'));
    const r = await run(g, { path: `${opinion.path}:${g.path}` });
    assert.is(r.code, 0, r.log);
    assert.match(r.log, `leaving /dev/vdb alone: ${tool}`, `${tool}: ${JSON.stringify(how)}`);
    assert.is(hash(join(g.root, 'dev/vdb')), before);
    assert.equal(g.calls(), []);
  }
});

test('a blank disk in use is left alone: mounted, swap, held, partitioned, backing a loop device', async () => {
  const cases: [string, Parameters<typeof guestWithDisk>[2], string][] = [
    ['mounted', { extraMounts: mountinfoLine(40, '254:16', '/srv', 'ext4', '/dev/vdb') }, '/dev/vdb is mounted on /srv'],
    ['partition mounted', { extraMounts: mountinfoLine(40, '254:17', '/srv', 'ext4', '/dev/vdb1'), vdb: { partitions: [{ name: 'vdb1', dev: '254:17' }] } }, '/dev/vdb1 is mounted on /srv'],
    ['btrfs mount by source', { extraMounts: mountinfoLine(40, '0:45', '/srv', 'btrfs', '/dev/vdb') }, '/dev/vdb is mounted on /srv'],
    ['held', { vdb: { holders: ['dm-0'] } }, 'held by dm-0'],
    ['partitioned', { vdb: { partitions: [{ name: 'vdb1', dev: '254:17' }] } }, 'the kernel sees partition /dev/vdb1'],
  ];
  for (const [name, options, reason] of cases) {
    const g = guestWithDisk((p) => blankImage(p, '1G'), GiB, options);
    const before = hash(join(g.root, 'dev/vdb'));
    const r = await run(g);
    assert.is(r.code, 0, r.log);
    assert.match(r.log, reason, name);
    assert.is(hash(join(g.root, 'dev/vdb')), before, name);
  }
  const g = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  writeFileSync(join(g.root, 'proc/swaps'), 'Filename Type Size Used Priority\n/dev/vdb partition 1048572 0 -2\n');
  const swap = await run(g);
  assert.match(swap.log, '/dev/vdb is in use as swap');
  const loop = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  writeSysBlock(loop.root, [{ name: 'loop3', dev: '7:3', sizeBytes: GiB, backingFile: '/dev/vdb' }]);
  const looped = await run(loop, { device: '/dev/vdb' });
  assert.match(looped.log, 'it backs /dev/loop3');
  assert.equal(loop.calls(), []);
});

test('nothing is formatted when the mount point or its fstab line belongs to something else', async () => {
  const g = guestWithDisk((p) => blankImage(p, '1G'), GiB, { extraMounts: mountinfoLine(41, '0:50', '/data', 'nfs', 'server:/export') });
  const before = hash(join(g.root, 'dev/vdb'));
  const r = await run(g);
  assert.match(r.log, 'something else is mounted on /data');
  assert.is(hash(join(g.root, 'dev/vdb')), before);
  const f = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  writeFileSync(join(f.root, 'etc/fstab'), 'LABEL=old /data ext4 defaults 0 2\n');
  const before2 = hash(join(f.root, 'dev/vdb'));
  const r2 = await run(f);
  assert.match(r2.log, '/etc/fstab already has "LABEL=old /data ext4 defaults 0 2"');
  assert.is(hash(join(f.root, 'dev/vdb')), before2);
});

test('no data disk, an unknown root, and a root disk given as --device: nothing is touched', async () => {
  const g = guestRoot(join(work, 'only-root'));
  writeSysBlock(g.root, [{ name: 'vda', dev: '254:0', sizeBytes: 10 * GiB }, { name: 'sr0', dev: '11:0', sizeBytes: GiB, removable: true }]);
  const none = await run(g);
  assert.is(none.code, 0);
  assert.match(none.log, 'no data disk (system disks: vda)');

  const z = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  writeFileSync(join(z.root, 'proc/self/mountinfo'), mountinfoLine(27, '0:30', '/', 'zfs', 'rpool/ROOT/debian'));
  const before = hash(join(z.root, 'dev/vdb'));
  const unknown = await run(z);
  assert.is(unknown.code, 0);
  assert.match(unknown.log, 'cannot tell which disk holds /');
  assert.is(hash(join(z.root, 'dev/vdb')), before);
});

test('the root disk is found from the mount table: on a partition, through device-mapper, on NVMe', async () => {
  // Root on nvme0n1p2; the data disk is nvme1n1 (partition names nvme1n1p1).
  const g = guestRoot(join(work, 'nvme'));
  writeFileSync(join(g.root, 'proc/self/mountinfo'), mountinfoLine(27, '259:2', '/', 'ext4', '/dev/nvme0n1p2'));
  blankImage(join(g.root, 'dev/nvme1n1'), '1G');
  blankImage(join(g.root, 'dev/nvme0n1'), '1G');
  writeSysBlock(g.root, [
    { name: 'nvme1n1', dev: '259:3', sizeBytes: GiB },
    { name: 'nvme0n1', dev: '259:0', sizeBytes: 10 * GiB, partitions: [{ name: 'nvme0n1p1', dev: '259:1' }, { name: 'nvme0n1p2', dev: '259:2' }] },
  ]);
  const r = await run(g, { dryRun: true });
  assert.match(r.log, '/dev/nvme1n1 is blank and unused: would format it');

  // Root on LVM: dm-0 over vda2. vda stays a system disk, vdb is the data disk.
  const l = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  writeFileSync(join(l.root, 'proc/self/mountinfo'), mountinfoLine(27, '253:0', '/', 'ext4', '/dev/mapper/vg-root'));
  writeSysBlock(l.root, [
    { name: 'vda', dev: '254:0', sizeBytes: 10 * GiB, partitions: [{ name: 'vda1', dev: '254:1' }, { name: 'vda2', dev: '254:2', holders: ['dm-0'] }] },
    { name: 'dm-0', dev: '253:0', sizeBytes: 9 * GiB, slaves: ['vda2'] },
  ]);
  const lvm = await run(l, { dryRun: true });
  assert.match(lvm.log, '/dev/vdb is blank and unused');

  // The same system with the root disk given as --device: refused.
  blankImage(join(l.root, 'dev/vda'), '1G');
  const refused = await run(l, { device: '/dev/vda', dryRun: true });
  assert.match(refused.log, 'leaving /dev/vda alone');
});

test('bad options are usage errors', async () => {
  const g = guestWithDisk((p) => blankImage(p, '1G'), GiB);
  for (const mountPoint of ['data', '/', '/da ta', '/a\\b']) {
    try {
      await run(g, { mountPoint });
      assert.unreachable(mountPoint);
    } catch (err) {
      assert.instance(err, UsageError, mountPoint);
    }
  }
  mkdirSync(join(g.root, 'dev/dir'));
  await run(g, { device: '/dev/dir' }).then(
    () => assert.unreachable('a directory as --device'),
    (err: Error) => assert.match(err.message, 'neither a block device nor a regular file'),
  );
  assert.equal(g.calls(), []);
});

test.run();
