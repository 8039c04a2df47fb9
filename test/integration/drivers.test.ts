import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { driverVer, loadManifest, type DriversManifest } from '../../build/drivers';
import { writeIso } from '../../lib/iso9660/writer';
import { ROOT, TempDirs, archive, fakeBytes, fakeDist, runPacker, sha256, tool } from '../support/packer';

const REAL = loadManifest(join(ROOT, 'drivers', 'manifest.json'));
const DRIVER_VER = '08/30/2024,100.95.104.26600';
const temp = new TempDirs();
const tempDir = (label: string) => temp.make(label);
let dist: string;

function infText(ver: string): string {
  return `; fixture\r\n[Version]\r\nSignature = "$WINDOWS NT$"\r\nDriverVer = ${ver} ; comment\r\nCatalogFile = x.cat\r\n`;
}

interface Fixture {
  folder: string;
  iso: string;
  /** Path in virtio-win → file content. */
  files: Map<string, Buffer>;
}

/** A virtio-win tree (and its ISO) with every file the real manifest lists, plus some it does not. */
async function virtioWin(change: { omit?: string; driverVer?: Record<string, string> } = {}): Promise<Fixture> {
  const files = new Map<string, Buffer>();
  for (const driver of REAL.drivers) {
    for (const os of [...REAL.targets, '2k12R2']) {
      for (const file of [...driver.files, `${driver.name.toLowerCase()}.pdb`]) {
        const path = `${driver.name}/${os}/amd64/${file}`;
        const ver = change.driverVer?.[path] ?? DRIVER_VER;
        files.set(path, file.endsWith('.inf') ? Buffer.from(infText(ver), 'latin1') : fakeBytes(path, 1000 + path.length));
      }
    }
  }
  // As upstream may have it: a UTF-16 .inf and an upper-case name.
  files.set('NetKVM/w11/amd64/netkvm.inf', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(infText(change.driverVer?.['NetKVM/w11/amd64/netkvm.inf'] ?? DRIVER_VER), 'utf16le')]));
  files.delete('Balloon/w10/amd64/blnsvr.exe');
  files.set('Balloon/w10/amd64/BLNSVR.EXE', fakeBytes('blnsvr', 5000));
  files.set('guest-agent/qemu-ga-x86_64.msi', fakeBytes('msi', 3000));
  if (change.omit) files.delete(change.omit);

  const folder = tempDir('virtio-win');
  for (const [path, data] of files) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), data);
  }
  const iso = join(tempDir('virtio-win-iso'), 'virtio-win-0.1.266.iso');
  await writeIso(iso, [...files.keys()].map((path) => ({ path, type: 'file', source: join(folder, path) })), { volumeId: 'virtio-win-0.1.266', mtime: new Date(0) });
  return { folder, iso, files };
}

function manifestFor(iso: string | null, edit: (m: DriversManifest) => void = () => {}): string {
  const manifest: DriversManifest = JSON.parse(JSON.stringify(REAL));
  manifest.virtioWin.sha256 = iso && sha256(iso);
  for (const driver of manifest.drivers) driver.driverVer = DRIVER_VER;
  edit(manifest);
  const path = join(tempDir('manifest'), 'manifest.json');
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}

function pack(formats: string[], virtio: string, manifest: string) {
  const out = tempDir('pack-drivers');
  return { out, ...runPacker([...formats, '--dist', dist, '--out', out, '--virtio-win', virtio, '--drivers-manifest', manifest]) };
}

function expectedDriverFiles(): string[] {
  return REAL.drivers.flatMap((d) => REAL.targets.flatMap((os) => d.files.map((f) => `${d.name}/${os}/amd64/${f}`)));
}

test.before(() => {
  dist = fakeDist(temp);
});

test('the manifest pins virtio-win and covers the required drivers and targets', () => {
  assert.ok(/^0\.1\.\d+$/.test(REAL.virtioWin.version));
  for (const name of ['NetKVM', 'viostor', 'vioscsi', 'vioserial', 'Balloon']) assert.ok(REAL.drivers.some((d) => d.name === name), name);
  assert.equal([...REAL.targets].sort(), ['2k16', '2k19', '2k22', 'w10', 'w11']);
  assert.is(REAL.arch, 'amd64');
  for (const d of REAL.drivers) for (const ext of ['inf', 'sys', 'cat']) assert.ok(d.files.some((f) => f.endsWith(`.${ext}`)), `${d.name} .${ext}`);
});

test('DriverVer is read from 8-bit and UTF-16 .inf files', () => {
  assert.is(driverVer(Buffer.from(infText('01/02/2024, 1.2.3.4'), 'latin1')), '01/02/2024,1.2.3.4');
  assert.is(driverVer(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(infText(DRIVER_VER), 'utf16le')])), DRIVER_VER);
  assert.is(driverVer(Buffer.from('[Version]\r\n; DriverVer = 1\r\n')), undefined);
});

test('an ISO in virtio-win layout is checked and imported into windows/drivers/<driver>/<os>/amd64/', async () => {
  const fixture = await virtioWin();
  const run = pack(['iso', 'tar'], fixture.iso, manifestFor(fixture.iso));
  assert.is(run.status, 0, run.stderr);
  assert.not.match(run.stdout, /NO VIRTIO DRIVERS/);
  assert.match(run.stdout, /virtio-win 0\.1\.266: 80 files for NetKVM, viostor, vioscsi, vioserial, Balloon on 2k16, 2k19, 2k22, w10, w11/);

  const extracted = tempDir('drivers-x');
  tool('tar', ['-xzf', archive(run.out, 'tar.gz'), '-C', extracted]);
  const drivers = join(extracted, 'sdc-vm-tools', 'windows', 'drivers');
  const shipped = readdirSync(drivers, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(drivers.length + 1));
  assert.equal(shipped.sort(), expectedDriverFiles().sort());
  for (const path of expectedDriverFiles()) {
    const source = path === 'Balloon/w10/amd64/blnsvr.exe' ? 'Balloon/w10/amd64/BLNSVR.EXE' : path;
    assert.ok(readFileSync(join(drivers, path)).equals(fixture.files.get(source)!), path);
  }
  assert.match(readFileSync(join(extracted, 'sdc-vm-tools', 'SHA256SUMS'), 'utf8'), /  windows\/drivers\/vioserial\/2k22\/amd64\/vioser\.sys\n/);
  const joliet = tool('isoinfo', ['-J', '-l', '-i', archive(run.out, 'iso')]);
  assert.match(joliet, /^Directory listing of \/windows\/drivers\/NetKVM\/w11\/amd64\/$/m);
  assert.match(joliet, / blnsvr\.exe $/m);
});

test('an extracted virtio-win folder works too (no sha256 to check)', async () => {
  const fixture = await virtioWin();
  const run = pack(['tar'], fixture.folder, manifestFor(null));
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /a folder has no sha256 to check/);
  assert.match(tool('tar', ['-tzf', archive(run.out, 'tar.gz')]), /^sdc-vm-tools\/windows\/drivers\/viostor\/w10\/amd64\/viostor\.sys$/m);
});

function assertFails(run: { status: number | null; stderr: string; out: string }, line: RegExp): void {
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, line);
  assert.equal(readdirSync(run.out), [], 'nothing written');
}

test('a missing driver file is a clear error', async () => {
  const fixture = await virtioWin({ omit: 'vioscsi/w11/amd64/vioscsi.cat' });
  assertFails(pack(['tar'], fixture.iso, manifestFor(fixture.iso)), /^package: error: virtio-win 0\.1\.266: vioscsi\/w11\/amd64\/vioscsi\.cat is missing$/m);
});

test('a DriverVer other than the pinned one is a clear error', async () => {
  const fixture = await virtioWin({ driverVer: { 'viostor/2k19/amd64/viostor.inf': '01/01/2020,100.1.2.3' } });
  assertFails(
    pack(['tar'], fixture.iso, manifestFor(fixture.iso)),
    /^package: error: virtio-win 0\.1\.266: viostor\/2k19\/amd64\/viostor\.inf has DriverVer 01\/01\/2020,100\.1\.2\.3, drivers\/manifest\.json expects 08\/30\/2024,100\.95\.104\.26600$/m,
  );
});

test('a sha256 other than the pinned one is a clear error, and so is no pin', async () => {
  const fixture = await virtioWin();
  const wrong = 'ab'.repeat(32);
  assertFails(
    pack(['tar'], fixture.iso, manifestFor(fixture.iso, (m) => { m.virtioWin.sha256 = wrong; })),
    new RegExp(`^package: error: virtio-win sha256 mismatch: \\S+ has ${sha256(fixture.iso)}, drivers/manifest.json pins ${wrong} \\(virtio-win 0.1.266\\)$`, 'm'),
  );
  assertFails(pack(['tar'], fixture.iso, manifestFor(null)), new RegExp(`^package: error: virtio-win 0.1.266: drivers/manifest.json pins no sha256; \\S+ has sha256 ${sha256(fixture.iso)}: `, 'm'));
});

test('VIRTIO_WIN pointing nowhere is a clear error', () => {
  assertFails(pack(['tar'], '/nonexistent/virtio-win.iso', manifestFor(null)), /^package: error: VIRTIO_WIN=\/nonexistent\/virtio-win\.iso: no such file or folder$/m);
});

test.after(() => temp.removeAll());

test.run();
