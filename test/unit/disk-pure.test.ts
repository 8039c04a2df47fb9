import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addFstabEntry, parseFstab } from '../../lib/disk/fstab';
import { fstabEntry, layoutFor, reservedPercent } from '../../lib/disk/plan';
import { findSignatures, Snapshot } from '../../lib/disk/signatures';
import { candidateDisks, compareDiskNames, parseMountinfo, parseSwaps, partitionName, rootDisks, type BlockDevice, type SystemView } from '../../lib/disk/system';

const GiB = 1024 ** 3;

function disk(name: string, dev: string, extra: Partial<BlockDevice> = {}): BlockDevice {
  return { name, dev, sizeBytes: 10 * GiB, logicalBlockSize: 512, removable: false, readOnly: false, partitions: [], holders: [], slaves: [], dmName: null, backingFile: null, ...extra };
}

test('layout: one partition from 1 MiB to the last whole MiB before the backup GPT', () => {
  const l = layoutFor(2 * GiB, 512);
  assert.equal([l.startLba, l.sizeLba, l.offset], [2048, 4190208, 1048576]);
  const odd = layoutFor(2 * GiB + 12345, 512);
  assert.is(((odd.startLba + odd.sizeLba) * 512) % (1024 * 1024), 0);
  const big = layoutFor(100 * GiB, 4096);
  assert.is(big.startLba, 256);
  assert.ok((big.startLba + big.sizeLba) * 4096 <= 100 * GiB - 5 * 4096, '4K sectors leave room for the backup table');
});

test('reserved blocks by size, at the exact limits', () => {
  const cases: [number, string][] = [[15 * GiB, '0.5'], [15 * GiB + 1, '0.25'], [30 * GiB, '0.25'], [100 * GiB, '0.1'], [200 * GiB, '0.05'], [200 * GiB + 1, '0.02'], [4096 * GiB, '0.02']];
  for (const [bytes, pct] of cases) assert.is(reservedPercent(bytes), pct, String(bytes));
});

test('fstab: added once by UUID, never duplicated, never over another entry for the mount point', () => {
  const entry = fstabEntry({ fs: 'ext4', mountPoint: '/data', uuid: 'u-1' });
  const start = '/dev/vda1 / ext4 defaults 0 1';
  const added = addFstabEntry(start, entry);
  assert.equal(added, { kind: 'add', text: `${start}\nUUID=u-1 /data ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2\n` });
  assert.equal(addFstabEntry((added as { text: string }).text, entry), { kind: 'present' });
  assert.equal(addFstabEntry('UUID=other /data/ xfs defaults 0 0\n', entry).kind, 'conflict');
  assert.equal(addFstabEntry('uuid=U-1 /srv ext4 defaults 0 0\n', entry).kind, 'conflict');
  assert.equal(addFstabEntry('# UUID=u-1 /data ext4\n', entry).kind, 'add');
  const spaced = fstabEntry({ fs: 'xfs', mountPoint: '/my data', uuid: 'u-2' });
  const text = (addFstabEntry('', spaced) as { text: string }).text;
  assert.is(text, 'UUID=u-2 /my\\040data xfs defaults,nofail,x-systemd.device-timeout=30s 0 0\n');
  assert.is(parseFstab(text)[0].mountPoint, '/my data');
});

test('mount table and swaps parse, with escapes and optional fields', () => {
  const m = parseMountinfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\nbad line\n');
  assert.equal(m, [{ dev: '98:0', mountPoint: '/mnt two', fsType: 'ext3', source: '/dev/root' }]);
  assert.equal(parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/dev/vdb2 partition 100 0 -2\n/swap\\040file file 10 0 -3\n'), ['/dev/vdb2', '/swap file']);
});

test('root disks: by device number, by source, through dm slaves; unknown for a ZFS root', () => {
  const view = (mountinfo: string, devices: BlockDevice[]): SystemView => ({ devices, mounts: parseMountinfo(mountinfo), swaps: [] });
  const line = (dev: string, src: string, fs = 'ext4') => `27 1 ${dev} / / rw - ${fs} ${src} rw\n`;
  const vda = disk('vda', '254:0', { partitions: [{ name: 'vda1', dev: '254:1', holders: [] }] });
  assert.equal(rootDisks(view(line('254:1', '/dev/vda1'), [vda, disk('vdb', '254:16')])), ['vda']);
  assert.equal(rootDisks(view(line('0:33', '/dev/vda1', 'btrfs'), [vda])), ['vda']);
  const dm = disk('dm-0', '253:0', { slaves: ['vda1', 'vdb'], dmName: 'vg-root' });
  assert.equal(rootDisks(view(line('253:0', '/dev/mapper/vg-root'), [vda, disk('vdb', '254:16'), dm]))?.sort(), ['vda', 'vdb']);
  assert.equal(rootDisks(view(line('0:40', '/dev/mapper/vg-root', 'btrfs'), [vda, disk('vdb', '254:16'), dm]))?.sort(), ['vda', 'vdb']);
  assert.is(rootDisks(view(line('0:30', 'rpool/ROOT/debian', 'zfs'), [vda])), null);
  assert.is(rootDisks(view('', [vda])), null);
});

test('candidates: virtio, SCSI, NVMe in kernel order; not system, removable, read-only or empty disks', () => {
  const devices = ['sdb', 'vdaa', 'nvme10n1', 'vdc', 'vdb', 'nvme2n1', 'loop0', 'sr0', 'dm-0', 'md0', 'zram0', 'xvdb'].map((n, i) => disk(n, `1:${i}`));
  devices.push(disk('vdd', '1:90', { removable: true }), disk('vde', '1:91', { readOnly: true }), disk('vdf', '1:92', { sizeBytes: 0 }));
  const view: SystemView = { devices, mounts: [], swaps: [] };
  assert.equal(candidateDisks(view, ['vdb']).map((d) => d.name), ['vdc', 'vdaa', 'xvdb', 'sdb', 'nvme2n1', 'nvme10n1']);
  assert.ok(compareDiskNames('vdz', 'vdaa') < 0);
  assert.equal(['vdb', 'nvme1n1', 'loop0', 'sda'].map((n) => partitionName(n, 1)), ['vdb1', 'nvme1n1p1', 'loop0p1', 'sda1']);
});

test('reader: each signature at its place, in a synthetic snapshot', () => {
  const size = 64 * 1024 * 1024;
  const at = (offset: number, bytes: string | Buffer) => {
    const head = Buffer.alloc(2 * 1024 * 1024);
    const tail = Buffer.alloc(1024 * 1024);
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    if (offset < head.length) data.copy(head, offset);
    else data.copy(tail, offset - (size - tail.length));
    return findSignatures(new Snapshot(size, [{ offset: 0, data: head }, { offset: size - tail.length, data: tail }])).map((f) => f.type);
  };
  assert.equal(at(0, ''), []);
  assert.equal(at(512, 'EFI PART'), ['gpt']);
  assert.equal(at(size - 512, 'EFI PART'), ['gpt']);
  assert.equal(at(size - 4096, 'EFI PART'), ['gpt']);
  assert.equal(at(0, 'XFSB'), ['xfs']);
  assert.equal(at(1024 * 1024, 'XFSB'), ['xfs']);
  assert.equal(at(65536 + 64, '_BHRfS_M'), ['btrfs']);
  assert.equal(at(512 + 0, 'LABELONE\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0LVM2 001'), ['LVM2_member']);
  assert.equal(at(4096 - 10, 'SWAPSPACE2'), ['swap']);
  assert.equal(at(65536 - 10, 'SWAPSPACE2'), ['swap']);
  assert.equal(at(0, 'LUKS\xba\xbe\0\x02'), ['crypto_LUKS']);
  assert.equal(at(32769, 'CD001'), ['iso9660']);
  assert.equal(at(3, 'NTFS    '), ['ntfs']);
  const md = Buffer.alloc(8);
  md.writeUInt32LE(0xa92b4efc, 0);
  md.writeUInt32LE(1, 4);
  assert.equal(at(size - 8192, md), ['linux_raid_member']);
  assert.equal(at(4096, md), ['linux_raid_member']);
  assert.equal(at(size - 65536, Buffer.from([0xfc, 0x4e, 0x2b, 0xa9])), ['linux_raid_member']);
  const ub = Buffer.alloc(8);
  ub.writeBigUInt64BE(0x00bab10cn);
  assert.equal(at(size - 256 * 1024 + 128 * 1024 + 7 * 1024, ub), ['zfs_member']);
  assert.equal(at(510, Buffer.from([0x55, 0xaa])), ['boot-sector']);
});

test.run();
