// Each Windows guest action, and `boot`, run by the real guest runner against a prefix root, with
// recording stubs of powershell.exe and shutdown.exe first on PATH and the metadata from a real
// mdata-server: golden command lines and files, secrets checked absent from everything kept.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openMetadataSession } from '../../lib/client/session';
import type { GuestAction } from '../../lib/guest/action';
import { runGuestActions, type RunSettings } from '../../lib/guest/run';
import { SET_PASSWORD_SCRIPT } from '../../lib/guest/windows/administrator-password';
import { configureNetworkWindows } from '../../lib/guest/windows/configure-network';
import { formatSecondaryDiskWindows } from '../../lib/guest/windows/format-secondary-disk';
import { setHostnameWindows } from '../../lib/guest/windows/hostname';
import { ps1Bytes } from '../../lib/guest/windows/powershell';
import { getUserDataWindows, runOperatorScriptWindows, runUserScriptWindows } from '../../lib/guest/windows/scripts';
import { WINDOWS_ACTIONS, WINDOWS_SYSTEM } from '../../lib/guest/windows/system';
import { blankImage, sh, writeAt } from '../support/disk-images';
import { MetadataHost } from '../support/metadata-host';
import { freshAdapters, loadCases, NETWORK_FIXTURES } from '../support/network-cases';
import { sha256 } from '../support/packer';
import { repoRoot } from '../support/run-tool';
import { ScriptedHost } from '../support/scripted-host';
import { PS, WindowsGuest } from '../support/windows-guest';

const scratch = mkdtempSync(join(tmpdir(), 'windows-actions-'));
const BASE_PATH = process.env.PATH ?? '';
const UUID = 'b2a1f3c4-aaaa-bbbb-cccc-1234567890ab';
const NIC = { interface: 'net0', mac: '90:b8:d0:c0:ff:ee', ips: ['10.88.88.10/24'], gateways: ['10.88.88.1'], primary: true };
const ADAPTER = { mac: '90-B8-D0-C0-FF-EE', index: 6, name: 'Ethernet', hardware: true, dhcp4: false, routerDiscovery: false, mtu4: 1500, mtu6: 1500, addresses: ['10.88.88.10/24'], routes: [{ dst: '0.0.0.0/0', via: '10.88.88.1' }], dns: ['8.8.8.8'], suffix: '' };
const PASSWORD = `p%a^s&s!"'w o\\rd $(calc) \`t;|<>é€😀`;

let host: MetadataHost;
const hosts: MetadataHost[] = [];

async function startHost(vm: object): Promise<MetadataHost> {
  const dir = mkdtempSync(join(scratch, 'host-'));
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ customer_metadata: {}, internal_metadata: {} }));
  writeFileSync(join(dir, 'vm.json'), JSON.stringify({ uuid: UUID, alias: 'win', brand: 'bhyve', ...vm }));
  const started = await new MetadataHost(join(dir, 'metadata.json'), join(dir, 'vm.json')).start(false);
  hosts.push(started);
  return started;
}

test.before(async () => {
  host = await startHost({ hostname: 'win-web01', nics: [NIC], resolvers: ['8.8.8.8'] });
});
test.after(async () => {
  for (const h of hosts) await h.close();
  process.env.PATH = BASE_PATH;
  rmSync(scratch, { recursive: true, force: true });
});

async function withSession<T>(body: (s: Awaited<ReturnType<typeof openMetadataSession>>) => Promise<T>, on = host): Promise<T> {
  const session = await openMetadataSession({ budgetSeconds: 10, target: { kind: 'socket', path: on.socket } });
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** Customer metadata (and `_pw`, `operator-script`, which the host keeps internal); null deletes. */
const setKeys = (values: Record<string, string | null>) =>
  withSession(async (s) => {
    for (const [key, value] of Object.entries(values)) await (value === null ? s.delete(key) : s.put(key, value));
  });
const getKey = (key: string) => withSession((s) => s.get(key));

/** Every key a test here sets: each test starts without them, whatever the one before it left. */
const KEYS = ['administrator_pw', 'user-script', 'user-data', 'hostname', 'operator-script', 'prepare-image:state', 'prepare-image:error'];
test.before.each(() => setKeys(Object.fromEntries(KEYS.map((key) => [key, null]))));

/** A Windows guest whose queries find a configured network, the computer name set, no data disk and a default route. */
function windowsGuest(): WindowsGuest {
  const guest = new WindowsGuest(scratch);
  guest.answer('network adapters', [ADAPTER]);
  guest.answer('computer name', { active: 'WIN-WEB01', pending: 'WIN-WEB01' });
  guest.answer('disks', { disks: [{ number: 0, partitionStyle: 'GPT', partitions: 4, boot: true, system: true, offline: false, readOnly: false, size: 4e10, busType: 'SCSI', uniqueId: 'boot', name: 'boot' }], letters: ['C', 'D'] });
  guest.answer('default route', { route: true });
  return guest;
}

async function run(guest: WindowsGuest, actions: GuestAction[], mode: 'boot' | 'single', extra: Partial<RunSettings> = {}, on = host) {
  process.env.PATH = `${guest.stubs.path}:${BASE_PATH}`;
  process.env.MDATA_SOCKET = on.socket;
  const printed: string[] = [];
  const settings: RunSettings = { system: WINDOWS_SYSTEM, root: guest.root, dryRun: false, live: true, budgetSeconds: 10, deadline: Date.now() + 10_000, options: {}, print: (t) => void printed.push(t), ...extra };
  const report = await runGuestActions(actions, settings, mode);
  const outcome = (name: string) => report.outcomes.find((o) => o.action === name)?.outcome;
  return { report, printed: printed.join(''), outcome };
}

const logOf = (guest: WindowsGuest) => guest.read('C:\\smartdc\\logs\\sdc-guest.log')?.toString('utf8') ?? '';

/** Every file under a folder, as one string (to look for a secret in all of it). */
function everything(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

test('set-administrator-password: every special character arrives on stdin exactly, and nowhere else', async () => {
  await setKeys({ administrator_pw: PASSWORD });
  const guest = windowsGuest();
  const { outcome, printed } = await run(guest, [WINDOWS_ACTIONS[1]], 'single');
  assert.equal(outcome('set-administrator-password'), { result: 'ok', detail: 'Administrator password set from administrator_pw' });
  assert.equal(guest.calls(), [`${PS} -File /C/smartdc/scripts/set-administrator-password.ps1`]);
  assert.equal(guest.stubs.inputs('powershell.exe'), [PASSWORD]);
  assert.ok(guest.read('C:\\smartdc\\scripts\\set-administrator-password.ps1')?.equals(ps1Bytes(SET_PASSWORD_SCRIPT)));
  const kept = [everything(guest.root), guest.stubs.calls().join('\n'), printed, logOf(guest)].join('\n');
  assert.match(logOf(guest), 'set-administrator-password: ok: Administrator password set from administrator_pw');
  for (const piece of ['s&s!', 'w o\\rd', '$(calc)', 'é€😀']) assert.not.ok(kept.includes(piece), `"${piece}" of the password was kept somewhere`);
});

test('set-administrator-password: a missing key changes nothing and is logged; an empty or multi-line one is refused', async () => {
  await setKeys({ administrator_pw: null });
  const guest = windowsGuest();
  const { outcome } = await run(guest, [WINDOWS_ACTIONS[1]], 'single');
  assert.equal(outcome('set-administrator-password'), { result: 'skipped', detail: 'no administrator_pw in the metadata; the Administrator password is left as it is' });
  assert.equal(guest.calls(), []);
  assert.is(guest.read('C:\\smartdc\\scripts\\set-administrator-password.ps1'), null);
  assert.match(logOf(guest), 'skipped: no administrator_pw in the metadata');
  await setKeys({ administrator_pw: 'one\r\ntwo' });
  assert.is((await run(guest, [WINDOWS_ACTIONS[1]], 'single')).outcome('set-administrator-password')?.result, 'failed');
  assert.equal(guest.calls(), []);
});

const USER_SCRIPT = `$name = "double \\"quoted\\" $env:COMPUTERNAME"\r\nWrite-Output 'it''s "multi-line"'\nif ($true) {\n  Write-Output "ünïcödé €"\n}\nexit 3\n`;

test('run-user-script: a multi-line script with quotes, kept byte for byte (UTF-8 with BOM), run with -File; output and exit code logged', async () => {
  await setKeys({ 'user-script': USER_SCRIPT });
  const guest = windowsGuest();
  guest.onScript('echo "line one"; echo "ünïcödé €"; exit 3');
  const { outcome } = await run(guest, [runUserScriptWindows], 'single');
  assert.equal(outcome('run-user-script'), { result: 'failed', detail: 'user-script exited 3' });
  assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: default route>`, `${PS} -File /C/smartdc/user-script.ps1`]);
  const file = guest.read('C:\\smartdc\\user-script.ps1') as Buffer;
  assert.ok(file.equals(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(USER_SCRIPT, 'utf8')])), 'BOM, then the script exactly');
  assert.equal(guest.scriptsRun(), [`\ufeff${USER_SCRIPT}`]);
  const log = logOf(guest);
  assert.match(log, 'run-user-script: | line one\n');
  assert.match(log, 'run-user-script: | ünïcödé €\n');
  assert.match(log, 'run-user-script: error: failed: user-script exited 3');
  assert.not.match(log, 'multi-line', 'the script itself is not logged');
});

test('run-user-script: one that runs too long is killed at its limit; a missing key removes the stale script', async () => {
  await setKeys({ 'user-script': 'Start-Sleep 60' });
  const guest = windowsGuest();
  guest.onScript('sleep 60');
  const started = Date.now();
  const { outcome } = await run(guest, [runUserScriptWindows], 'single', { options: { '--user-script-timeout': '1' } });
  assert.equal(outcome('run-user-script'), { result: 'failed', detail: 'user-script killed after 1 s (time limit)' });
  assert.ok(Date.now() - started < 15_000, 'ended within its bound');
  await setKeys({ 'user-script': null });
  const again = await run(guest, [runUserScriptWindows], 'single');
  assert.equal(again.outcome('run-user-script'), { result: 'skipped', detail: 'no user-script in the metadata' });
  assert.is(guest.read('C:\\smartdc\\user-script.ps1'), null);
});

test('get-user-data: written as given, removed when the key is gone; a dry run shows its size only', async () => {
  const guest = windowsGuest();
  const data = 'line1\r\nsecret value ünï\n';
  await setKeys({ 'user-data': data });
  const dry = await run(guest, [getUserDataWindows], 'single', { dryRun: true });
  assert.match(dry.printed, `would write C:\\smartdc\\user-data (${Buffer.byteLength(data)} bytes, content not shown)`);
  assert.not.match(dry.printed, 'secret value');
  assert.is(guest.read('C:\\smartdc\\user-data'), null);
  await run(guest, [getUserDataWindows], 'single');
  assert.is(guest.read('C:\\smartdc\\user-data')?.toString('utf8'), 'line1\r\nsecret value ünï\n');
  await setKeys({ 'user-data': null });
  const { outcome } = await run(guest, [getUserDataWindows], 'single');
  assert.equal(outcome('get-user-data'), { result: 'ok', detail: 'no user-data: C:\\smartdc\\user-data removed' });
  assert.is(guest.read('C:\\smartdc\\user-data'), null);
  assert.equal(guest.calls(), []);
});

test('set-hostname: the first label cut to 15 characters; one rename and one reboot, the rest left for after it', async () => {
  await setKeys({ hostname: 'web-frontend-primary.example.com', 'user-data': 'x' });
  const guest = windowsGuest();
  guest.answer('computer name', { active: 'WIN-5T0ADSQ', pending: 'WIN-5T0ADSQ' });
  const first = await run(guest, [setHostnameWindows, getUserDataWindows], 'boot');
  assert.equal(first.outcome('set-hostname'), { result: 'ok', detail: 'WIN-5T0ADSQ renamed to web-frontend-pr (from hostname)', restart: { kind: 'reboot', reason: 'the computer name web-frontend-pr' } });
  assert.equal(first.outcome('get-user-data'), { result: 'skipped', detail: 'left for the next boot: rebooting for the computer name web-frontend-pr' });
  assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: computer name>`, `${PS} -File /C/smartdc/scripts/set-hostname.ps1`, 'shutdown.exe /r /t 0 /d p:4:1 /c sdc-guest: the computer name web-frontend-pr']);
  assert.match(guest.scriptsRun()[0], "Rename-Computer -NewName 'web-frontend-pr' -Force -WarningAction SilentlyContinue\n");
  assert.is(guest.read('C:\\smartdc\\user-data'), null, 'not written before the reboot');
  assert.match(logOf(guest), 'set-hostname: hostname "web-frontend-primary.example.com" becomes the computer name web-frontend-pr (first label, 15 characters at most)');

  // The reboot did not take the name: no second reboot.
  guest.answer('computer name', { active: 'WIN-5T0ADSQ', pending: 'web-frontend-pr' });
  const stuck = await run(guest, [setHostnameWindows, getUserDataWindows], 'boot');
  assert.equal(stuck.outcome('set-hostname'), { result: 'failed', detail: 'the computer name is still WIN-5T0ADSQ after a reboot for web-frontend-pr; not rebooting again' });
  assert.is(stuck.outcome('get-user-data')?.result, 'ok');
  assert.is(guest.calls().filter((c) => c.startsWith('shutdown.exe')).length, 1);

  // Applied: nothing to do, the marker goes.
  guest.answer('computer name', { active: 'WEB-FRONTEND-PR', pending: 'WEB-FRONTEND-PR' });
  const done = await run(guest, [setHostnameWindows], 'boot');
  assert.equal(done.outcome('set-hostname'), { result: 'ok', detail: 'web-frontend-pr (unchanged)' });
  assert.is(guest.read('C:\\smartdc\\state\\hostname-reboot'), null);
});

test('set-hostname by hand renames but never reboots; a bad name falls back to sdc:hostname', async () => {
  await setKeys({ hostname: 'bad_name!' });
  const guest = windowsGuest();
  guest.answer('computer name', { active: 'WIN-5T0ADSQ', pending: 'WIN-5T0ADSQ' });
  const { outcome } = await run(guest, [setHostnameWindows], 'single');
  assert.is(outcome('set-hostname')?.detail, 'WIN-5T0ADSQ renamed to win-web01 (from sdc:hostname)');
  assert.equal(guest.calls().filter((c) => c.startsWith('shutdown.exe')), []);
  const log = logOf(guest);
  assert.match(log, 'hostname is not a usable computer name, skipped: "bad_name!"');
  assert.match(log, 'the computer name win-web01 needs a reboot: not done when run by hand');
});

const caseFile = JSON.parse(readFileSync(join(NETWORK_FIXTURES, 'cases.json'), 'utf8')) as Record<string, Record<string, unknown>>;

for (const c of loadCases()) {
  test(`configure-network: ${c.name} through mdata-server gives its reviewed script`, async () => {
    const raw = caseFile[c.name];
    // The host serves sdc:routes as it builds them from the VM's routes: a case that gives sdc:routes
    // as a raw list (which the host cannot serve) has a reviewed script of its own, without them.
    const vm = { nics: raw.nics, resolvers: raw.resolvers, dns_domain: raw.dnsDomain, routes: raw.vmRoutes };
    const served = await startHost(vm);
    const guest = new WindowsGuest(scratch);
    guest.answer('network adapters', freshAdapters(c));
    // bad-input names a NIC that no adapter has: it is waited for until the deadline, with a reading every 2 s.
    const waits = c.name === 'bad-input';
    const { outcome } = await run(guest, [configureNetworkWindows], 'single', { deadline: Date.now() + (waits ? 6000 : 3000) }, served);
    const golden = join(NETWORK_FIXTURES, 'golden', c.name, raw.routes ? 'windows-served' : 'windows', 'configure-network.ps1');
    const expected = existsSync(golden) ? readFileSync(golden, 'utf8') : null;
    const written = guest.read('C:\\smartdc\\scripts\\configure-network.ps1');
    if (expected === null) {
      assert.is(written, null);
      assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: network adapters>`]);
    } else {
      assert.ok(written?.equals(ps1Bytes(expected)), 'the reviewed script, as a .ps1');
      const calls = guest.calls();
      assert.is(calls.pop(), `${PS} -File /C/smartdc/scripts/configure-network.ps1`);
      // A NIC of sdc:nics that no adapter has is waited for, a bounded time, with fresh readings.
      assert.equal(new Set(calls), new Set([`${PS} -EncodedCommand <query: network adapters>`]));
      assert.ok(waits ? calls.length >= 2 && calls.length <= 3 : calls.length === 1, `${calls.length} readings`);
      if (waits) {
        assert.match(logOf(guest), /configure-network: waiting up to \d s for adapters: sdc:nics\[4\] \(net4\): no interface has MAC 90:b8:d0:00:00:09; NIC not configured\n/);
        assert.is(outcome('configure-network')?.detail, 'changed Ethernet 1, Ethernet 3; 15 problem(s): sdc:resolvers[1]: "dns.example.com" is not an IP address; ignored ...');
      }
    }
    assert.is(outcome('configure-network')?.result, c.name === 'bad-input' ? 'failed' : 'ok', outcome('configure-network')?.detail);
  });
}

test('configure-network: nothing differs, nothing runs; a failing change is read and tried again 3 times, then reported', async () => {
  const guest = windowsGuest();
  const same = await run(guest, [configureNetworkWindows], 'single');
  assert.equal(same.outcome('configure-network'), { result: 'ok', detail: 'network configuration unchanged' });
  assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: network adapters>`]);

  const failing = windowsGuest();
  failing.answer('network adapters', [{ ...ADAPTER, addresses: [], routes: [] }]);
  failing.onScript('echo "New-NetIPAddress : Access is denied." >&2; exit 1');
  const started = Date.now();
  const { outcome } = await run(failing, [configureNetworkWindows], 'single');
  assert.equal(outcome('configure-network'), { result: 'failed', detail: 'not configured after 3 attempts: exited 1: New-NetIPAddress : Access is denied.' });
  assert.equal(failing.calls(), Array(3).fill([`${PS} -EncodedCommand <query: network adapters>`, `${PS} -File /C/smartdc/scripts/configure-network.ps1`]).flat());
  assert.ok(Date.now() - started < 30_000);
});

test('configure-network: a NIC that no adapter has is still reported when every attempt fails', async () => {
  const served = await startHost({ nics: [NIC, { interface: 'net1', mac: '90:b8:d0:00:00:09', ips: ['10.99.99.10/24'] }] });
  const guest = windowsGuest();
  guest.answer('network adapters', [{ ...ADAPTER, addresses: [], routes: [] }]);
  guest.onScript('exit 1');
  const { outcome } = await run(guest, [configureNetworkWindows], 'single', { deadline: Date.now() + 3000 }, served);
  assert.is(outcome('configure-network')?.result, 'failed');
  assert.match(logOf(guest), 'configure-network: warn: sdc:nics[1] (net1): no interface has MAC 90:b8:d0:00:00:09; NIC not configured');
});

const MiB = 1024 * 1024;

function dataDiskGuest(windowsView: object, image: ((path: string) => void) | null): { guest: WindowsGuest; device: string } {
  const guest = windowsGuest();
  const device = guest.host('\\\\.\\PhysicalDrive1');
  mkdirSync(join(guest.root, 'dev'), { recursive: true });
  if (image) image(blankImage(device, `${64 * MiB}`));
  guest.answer('disks', {
    disks: [
      { number: 0, partitionStyle: 'GPT', partitions: 4, boot: true, system: true, offline: false, readOnly: false, size: 4e10, busType: 'SCSI', uniqueId: 'boot', name: 'boot' },
      { number: 1, partitionStyle: 'RAW', partitions: 0, boot: false, system: false, offline: true, readOnly: false, size: 64 * MiB, busType: 'SCSI', uniqueId: '60022480abc', name: 'Red Hat VirtIO SCSI Disk Device', ...windowsView },
    ],
    letters: ['C', 'D'],
  });
  return { guest, device };
}

test('format-secondary-disk: a blank RAW disk gets a GPT, one NTFS volume and the first free letter from D:', async () => {
  const { guest } = dataDiskGuest({}, () => undefined);
  const { outcome } = await run(guest, [formatSecondaryDiskWindows], 'single');
  assert.equal(outcome('format-secondary-disk'), { result: 'ok', detail: 'disk 1: GPT, one NTFS volume sdc-data as E:' });
  assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: disks>`, `${PS} -File /C/smartdc/scripts/format-secondary-disk.ps1`]);
  assert.fixture(
    guest.scriptsRun()[0],
    `\ufeff# Written by sdc-guest format-secondary-disk: disk 1 (Red Hat VirtIO SCSI Disk Device) was RAW, without partitions, and read as zeros.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$disk = Get-Disk -Number 1
if ([string]$disk.PartitionStyle -ne 'RAW' -or $disk.NumberOfPartitions -ne 0 -or [string]$disk.UniqueId -ne '60022480abc') { throw 'disk 1 changed since it was checked; left alone' }
if ([System.IO.DriveInfo]::GetDrives() | Where-Object { $_.Name -like 'E:*' }) { throw 'E: was taken since it was checked; disk 1 left alone' }
Set-Disk -Number 1 -IsOffline $false
Initialize-Disk -Number 1 -PartitionStyle GPT
$partition = New-Partition -DiskNumber 1 -UseMaximumSize -DriveLetter E
Format-Volume -Partition $partition -FileSystem NTFS -NewFileSystemLabel 'sdc-data' -Confirm:$false | Out-Null
Write-Output 'disk 1: GPT, one NTFS volume sdc-data as E:'
`,
  );
});

const LEFT_ALONE: Array<[string, object, ((path: string) => void) | null, string]> = [
  ['Windows sees partitions', { partitionStyle: 'GPT', partitions: 2 }, () => undefined, 'disk 1 left alone: Windows sees a GPT partition table; Windows sees 2 partition(s)'],
  ['Windows calls it RAW, but it holds ext4', {}, (path) => void sh('mkfs.ext4', ['-q', '-F', path]), 'disk 1 left alone: ext4 signature at byte 1080'],
  ['RAW and no signature, but not all zeros', {}, (path) => writeAt(path, 5000, Buffer.from('data')), 'disk 1 left alone: non-zero data at byte 5000'],
  ['its device cannot be read', {}, null, 'disk 1 left alone: \\\\.\\PhysicalDrive1 cannot be read to check it'],
];

for (const [name, view, image, detail] of LEFT_ALONE) {
  test(`format-secondary-disk: a disk is never touched when ${name}`, async () => {
    const { guest, device } = dataDiskGuest(view, image);
    const before = image ? sha256(device) : null;
    const { outcome } = await run(guest, [formatSecondaryDiskWindows], 'single');
    assert.is(outcome('format-secondary-disk')?.result, 'ok');
    assert.match(outcome('format-secondary-disk')?.detail ?? '', detail);
    assert.equal(guest.calls(), [`${PS} -EncodedCommand <query: disks>`]);
    if (before) assert.is(sha256(device), before, 'the image is unchanged');
  });
}

const IMGADM_SCRIPT = 'C:\\smartdc\\bin\\mdata-put.exe prepare-image:state running\n# ... imgadm prepare-image work ...\n';
const mdataPut = (args: string) => `'${process.execPath}' '${join(repoRoot, 'dist', 'node', 'mdata-put.cjs')}' ${args}`;

test("run-operator-script: imgadm's prepare-image reports its state itself, then the guest powers off and the user-script waits", async () => {
  await setKeys({ 'operator-script': IMGADM_SCRIPT, 'user-script': 'Write-Output hi', 'prepare-image:state': null });
  const guest = windowsGuest();
  guest.onScript(`${mdataPut('prepare-image:state running')} && ${mdataPut('prepare-image:state success')}`);
  const { outcome } = await run(guest, [runOperatorScriptWindows, runUserScriptWindows], 'boot');
  assert.equal(outcome('run-operator-script'), { result: 'ok', detail: 'operator-script exited 0; prepare-image:state success', restart: { kind: 'poweroff', reason: "imgadm's prepare-image" } });
  assert.equal(outcome('run-user-script'), { result: 'skipped', detail: "left for the next boot: powering off for imgadm's prepare-image" });
  assert.equal(guest.calls().filter((c) => !c.includes('<query: default route>')), [`${PS} -File /C/smartdc/operator-script.ps1`, "shutdown.exe /s /t 0 /d p:4:1 /c sdc-guest: imgadm's prepare-image"]);
  assert.is(await getKey('prepare-image:state'), 'success');
});

test('run-operator-script: a prepare-image script that dies before its final state gets error reported for it', async () => {
  await setKeys({ 'operator-script': IMGADM_SCRIPT, 'prepare-image:state': null, 'prepare-image:error': null });
  const guest = windowsGuest();
  guest.onScript(`${mdataPut('prepare-image:state running')}; exit 7`);
  const { outcome } = await run(guest, [runOperatorScriptWindows], 'boot');
  assert.equal(outcome('run-operator-script')?.detail, 'operator-script exited 7; prepare-image:state was running: error reported');
  assert.is(await getKey('prepare-image:state'), 'error');
  assert.is(await getKey('prepare-image:error'), 'the operator-script ended without reporting success or error: operator-script exited 7');
  assert.match(guest.calls().join('\n'), 'shutdown.exe /s ');
});

test('run-operator-script: a script that only mentions prepare-image is ordinary: nothing powers off', async () => {
  await setKeys({ 'operator-script': '# runs after prepare-image made this image\nWrite-Output hello', 'prepare-image:state': null });
  const guest = windowsGuest();
  const { outcome } = await run(guest, [runOperatorScriptWindows], 'boot');
  assert.is(outcome('run-operator-script')?.detail, 'operator-script exited 0');
  assert.not.match(guest.calls().join('\n'), 'shutdown.exe');
});

test('run-operator-script: any other operator-script runs before the user-script, and nothing powers off', async () => {
  await setKeys({ 'operator-script': 'Write-Output operator', 'user-script': 'Write-Output user' });
  const guest = windowsGuest();
  const { outcome } = await run(guest, [runOperatorScriptWindows, runUserScriptWindows], 'boot');
  assert.is(outcome('run-operator-script')?.detail, 'operator-script exited 0');
  // Each script first waits for a default route (at once, here).
  const route = `${PS} -EncodedCommand <query: default route>`;
  assert.equal(guest.calls(), [route, `${PS} -File /C/smartdc/operator-script.ps1`, route, `${PS} -File /C/smartdc/user-script.ps1`]);
});

test('boot: every action in order over one metadata fetch, the state file, the password once, the user-script every boot', async () => {
  await setKeys({ administrator_pw: PASSWORD, 'user-script': 'Write-Output hi', 'user-data': 'data' });
  const guest = windowsGuest();
  const first = await run(guest, WINDOWS_ACTIONS, 'boot');
  assert.equal(first.report.outcomes.map((o) => `${o.action}: ${o.outcome.result}`), [
    'configure-network: ok',
    'set-administrator-password: ok',
    'set-hostname: ok',
    'format-secondary-disk: ok',
    'get-user-data: ok',
    'run-operator-script: skipped',
    'run-user-script: ok',
  ]);
  assert.equal(guest.calls(), [
    `${PS} -EncodedCommand <query: network adapters>`,
    `${PS} -File /C/smartdc/scripts/set-administrator-password.ps1`,
    `${PS} -EncodedCommand <query: computer name>`,
    `${PS} -EncodedCommand <query: disks>`,
    `${PS} -EncodedCommand <query: default route>`,
    `${PS} -File /C/smartdc/user-script.ps1`,
  ]);
  const state = JSON.parse(guest.read('C:\\smartdc\\state\\state.json')!.toString('utf8'));
  assert.is(state.instance, UUID);
  assert.is(state.actions['set-administrator-password'].result, 'ok');
  const second = await run(guest, WINDOWS_ACTIONS, 'boot');
  assert.match(second.outcome('set-administrator-password')?.detail ?? '', /^done for this instance at /);
  assert.is(second.outcome('run-user-script')?.detail, 'user-script exited 0');
  assert.is(guest.calls().filter((c) => c.includes('user-script.ps1')).length, 2);
  assert.not.ok(everything(guest.root).includes('s&s!'), 'the password is in no file');
});

test('boot --dry-run: nothing changes; the plan shows the scripts and commands, never a secret', async () => {
  await setKeys({ administrator_pw: PASSWORD, 'user-script': 'Write-Output hi', 'user-data': 'data' });
  const guest = windowsGuest();
  guest.answer('network adapters', [{ ...ADAPTER, dhcp4: true, addresses: [], routes: [] }]);
  guest.answer('computer name', { active: 'WIN-5T0ADSQ', pending: 'WIN-5T0ADSQ' });
  const { printed, outcome } = await run(guest, WINDOWS_ACTIONS, 'boot', { dryRun: true });
  assert.equal(readdirSync(guest.root), [], 'nothing written');
  assert.equal(guest.calls().filter((c) => !c.includes('-EncodedCommand')), [], 'only queries ran');
  assert.match(printed, "would write C:\\smartdc\\scripts\\configure-network.ps1\n--- /dev/null\n+++ C:\\smartdc\\scripts\\configure-network.ps1\n");
  assert.match(printed, "+New-NetIPAddress -InterfaceIndex $i -IPAddress '10.88.88.10' -PrefixLength 24 | Out-Null\n");
  assert.match(printed, `would run: ${PS} -File ${guest.root}/C/smartdc/scripts/set-administrator-password.ps1 (with input)\n`);
  assert.match(printed, "+Rename-Computer -NewName 'win-web01' -Force -WarningAction SilentlyContinue\n");
  assert.match(printed, "would run: shutdown.exe /r /t 0 /d p:4:1 /c 'sdc-guest: the computer name win-web01'\n");
  assert.is(outcome('run-user-script')?.result, 'skipped', 'after the planned reboot');
  assert.is(outcome('get-user-data')?.result, 'skipped', 'after the planned reboot');
  assert.not.ok(printed.includes('s&s!'));
});

test('a silent host: the boot run ends within its budget, and what needs metadata reports it', async () => {
  const silent = await new ScriptedHost({ silent: true }).listen();
  try {
    const guest = windowsGuest();
    process.env.PATH = `${guest.stubs.path}:${BASE_PATH}`;
    process.env.MDATA_SOCKET = silent.path;
    const started = Date.now();
    const report = await runGuestActions(WINDOWS_ACTIONS, { system: WINDOWS_SYSTEM, root: guest.root, dryRun: false, live: true, budgetSeconds: 2, deadline: Date.now() + 2000, options: {}, print: () => undefined }, 'boot');
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
    assert.match(report.metadata.problem ?? '', /./);
    const outcome = (name: string) => report.outcomes.find((o) => o.action === name)!.outcome;
    assert.match(outcome('configure-network').detail, /^metadata unavailable: /);
    assert.match(outcome('set-administrator-password').detail, /^metadata unavailable: /);
    assert.is(outcome('format-secondary-disk').result, 'ok', 'it needs no metadata');
    assert.equal(guest.calls().filter((c) => c.includes('-File')), [], 'no change was made without metadata');
  } finally {
    await silent.close();
  }
});

test('the state file and the log are where docs/windows.md says', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'windows.md'), 'utf8');
  for (const path of [WINDOWS_SYSTEM.stateFile, WINDOWS_SYSTEM.logFile]) assert.ok(doc.includes(`| \`${path}\` |`), `docs/windows.md lists ${path}`);
});

test.run();
