import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blankImage, sh } from '../support/disk-images';
import { repoRoot } from '../support/run-tool';
import { skipTest } from '../support/skip';

// A real loop device, formatted and mounted by the action inside a private mount namespace whose
// prefix root has /dev, /sys and /proc bound in; a file written through that mount is read back
// from outside with debugfs after the namespace (and its mount) is gone.
const work = mkdtempSync(join(tmpdir(), 'disk-loop-'));
const loops: string[] = [];

test.after(() => {
  for (const dev of loops) spawnSync('losetup', ['--detach', dev], { timeout: 30_000 });
  rmSync(work, { recursive: true, force: true });
});

function canLoop(): boolean {
  if (process.getuid?.() !== 0 || spawnSync('losetup', ['--find'], { timeout: 10_000 }).status !== 0) {
    skipTest('needs root and a free loop device');
    return false;
  }
  return true;
}

function format(name: string, fs: 'ext4' | 'xfs') {
  const dir = join(work, name);
  const root = join(dir, 'root');
  for (const d of ['dev', 'sys', 'proc', 'etc']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/fstab'), '');
  const image = blankImage(join(dir, 'disk.img'), '1G');
  const dev = sh('losetup', ['--find', '--show', '--partscan', image]).trim();
  loops.push(dev);
  const script = [
    `for d in dev sys proc; do mount --bind /$d '${root}'/$d || exit 90; done`,
    `${process.execPath} -r tsm test/support/run-format.ts '${root}' ${dev} ${fs} || exit $?`,
    `echo 'written through the mount' > '${root}/data/hello.txt' && sync || exit 91`,
    `cat '${root}/data/hello.txt'`,
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { cwd: repoRoot, timeout: 300_000, killSignal: 'SIGKILL' });
  return { dev, root, code: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
}

test('a real loop device: partitioned, ext4, mounted, a file written and read back', () => {
  if (!canLoop()) return;
  const r = format('ext4', 'ext4');
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, `${r.dev} is blank and unused: formatting it as ext4 for /data`);
  assert.match(r.out, /written through the mount\n$/);
  const part = `${r.dev}p1`;
  const probe = sh('blkid', ['-p', '-o', 'export', part]);
  assert.match(probe, /^TYPE=ext4$/m);
  const uuid = /^UUID=(.*)$/m.exec(probe)![1];
  assert.is(readFileSync(join(r.root, 'etc/fstab'), 'utf8'), `UUID=${uuid} /data ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2\n`);
  assert.is(sh('debugfs', ['-R', 'cat /hello.txt', part]).replace(/^debugfs.*\n/, ''), 'written through the mount\n');
  assert.is(JSON.parse(sh('sfdisk', ['--json', r.dev])).partitiontable.partitions[0].start, 2048);
});

test('a real loop device with --fs xfs', () => {
  if (!canLoop()) return;
  const r = format('xfs', 'xfs');
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /written through the mount\n$/);
  assert.match(sh('blkid', ['-p', '-o', 'export', `${r.dev}p1`]), /^LABEL=sdc-data$/m);
  assert.match(readFileSync(join(r.root, 'etc/fstab'), 'utf8'), / \/data xfs defaults,nofail,x-systemd.device-timeout=30s 0 0\n$/);
});

test.run();
