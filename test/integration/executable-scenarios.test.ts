import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataHost } from '../support/metadata-host';
import { assertFreshBuild, linuxExecutableCommand, repoRoot } from '../support/run-tool';
import { scenarioSuite } from '../support/scenarios';
import { WinePrefix } from '../support/wine';
import { skipTest } from '../support/skip';

scenarioSuite('Linux executable over a unix socket', linuxExecutableCommand, false);
scenarioSuite('Linux executable over a pty', linuxExecutableCommand, true);

const windows = suite('Windows executables under wine, COM2 on a pty');
const exe = (name: string) => {
  assertFreshBuild(join(repoRoot, 'dist', 'win-x64'));
  return join(repoRoot, 'dist', 'win-x64', `${name}.exe`);
};

windows('mdata-put.exe, mdata-get.exe, mdata-list.exe and mdata-delete.exe against mdata-server', async () => {
  if (process.env.SKIP_WINE === '1') return skipTest('SKIP_WINE=1');
  const fixtures = join(repoRoot, 'test', 'fixtures');
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
  const wine = new WinePrefix();
  try {
    await wine.start();
    wine.mapCom2(realpathSync(host.device));
    const check = async (name: string, args: string[], code: number, stdout: string, stderr = '', stdinFile?: string) => {
      const r = await wine.run(exe(name), args, 60000, {}, stdinFile);
      assert.is(r.stderr, stderr, `${name} ${args.join(' ')}`);
      assert.is(r.code, code);
      assert.is(r.stdout, stdout);
    };
    await check('mdata-get', ['sdc:uuid'], 0, '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n');
    await check('mdata-get', ['nosuch'], 1, '', "No metadata for 'nosuch'\n");
    await check('mdata-put', ['from-windows', 'argv value'], 0, '');
    await check('mdata-get', ['from-windows'], 0, 'argv value\n');
    const input = join(host.dir, 'stdin.txt');
    writeFileSync(input, 'line1\r\nline2\n');
    await check('mdata-put', ['from-stdin'], 0, '', '', input);
    await check('mdata-get', ['from-stdin'], 0, 'line1\r\nline2\n');
    await check('mdata-put', ['sdc:alias', 'x'], 2, '', 'Error putting metadata for key \'sdc:alias\': Cannot update the "sdc" Namespace.\n');
    const list = await wine.run(exe('mdata-list'), []);
    assert.is(list.code, 0, list.stderr);
    assert.match(list.stdout, /^user-script\n(.+\n)*from-windows\nfrom-stdin\nroot_pw\n$/);
    await check('mdata-delete', ['from-windows'], 0, '');
    await check('mdata-get', ['from-windows'], 1, '', "No metadata for 'from-windows'\n");
  } finally {
    await wine.stop();
    await host.close();
  }
});

const PASSWORD = 'wine-%^&!"\'-é';

windows('sdc-guest.exe status, boot --dry-run and get-user-data over COM2; mdata-get.exe alone in an empty folder', async () => {
  if (process.env.SKIP_WINE === '1') return skipTest('SKIP_WINE=1');
  const dir = mkdtempSync(join(tmpdir(), 'wine-guest-'));
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({
    customer_metadata: { 'user-script': 'Write-Output "hello from the user-script"\r\n', 'user-data': 'some data', hostname: 'wineguest' },
    internal_metadata: { administrator_pw: PASSWORD },
  }));
  writeFileSync(join(dir, 'vm.json'), JSON.stringify({ uuid: '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f', hostname: 'wineguest', nics: [{ mac: '90:b8:d0:c0:ff:ee', ips: ['10.0.0.5/24'], primary: true }] }));
  const host = await new MetadataHost(join(dir, 'metadata.json'), join(dir, 'vm.json')).start(true);
  const wine = new WinePrefix();
  try {
    await wine.start();
    wine.mapCom2(realpathSync(host.device));
    rmSync(join(wine.prefix, 'drive_c', 'smartdc'), { recursive: true, force: true });
    const status = await wine.run(exe('sdc-guest'), ['status']);
    assert.is(status.code, 0, status.stderr);
    assert.is(status.stdout, 'platform: windows\ntransport: serial COM2\nprotocol: V2\ninstance: 7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\nstate: C:\\smartdc\\state\\state.json (no run recorded)\n');

    // Wine's powershell.exe is a stub that prints nothing: the queries fail, and say so; the
    // changes that need no reading of the system are planned.
    const boot = await wine.run(exe('sdc-guest'), ['boot', '--dry-run', '--timeout', '20']);
    assert.is(boot.code, 2, boot.stderr);
    const plan = boot.stdout.replace(/\r/g, '');
    const ps = 'would run: powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File';
    assert.match(plan, 'would write C:\\smartdc\\scripts\\set-administrator-password.ps1\n--- /dev/null\n');
    assert.match(plan, "+$admin = Get-LocalUser | Where-Object { $_.SID.Value -match '^S-1-5-21-.+-500$' }\n");
    assert.match(plan, `${ps} 'C:\\smartdc\\scripts\\set-administrator-password.ps1' (with input)\n`);
    assert.match(plan, 'would write C:\\smartdc\\user-data (9 bytes, content not shown)\n');
    assert.match(plan, 'would write C:\\smartdc\\user-script.ps1 (');
    assert.match(plan, `${ps} 'C:\\smartdc\\user-script.ps1'\n`);
    for (const action of ['configure-network', 'set-hostname', 'format-secondary-disk']) {
      assert.match(boot.stderr, `sdc-guest ${action}: error: failed: `, action);
    }
    assert.match(boot.stderr, 'powershell.exe printed no JSON (nothing)');
    assert.match(boot.stderr, /sdc-guest boot: 3 ok, 3 failed \(configure-network, set-hostname, format-secondary-disk\), 1 skipped\n$/);
    assert.not.ok((boot.stdout + boot.stderr).includes('%^&!'), 'the password is nowhere');
    assert.not.ok(existsSync(join(wine.prefix, 'drive_c', 'smartdc')), 'a dry run writes nothing');

    // A real run writes through the one atomic writer (Windows flushes only through a writable handle).
    const data = await wine.run(exe('sdc-guest'), ['get-user-data']);
    assert.is(data.code, 0, data.stderr);
    const smartdc = join(wine.prefix, 'drive_c', 'smartdc');
    assert.is(readFileSync(join(smartdc, 'user-data'), 'utf8'), 'some data');
    assert.is(JSON.parse(readFileSync(join(smartdc, 'state', 'state.json'), 'utf8')).actions['get-user-data'].result, 'ok');
    assert.match(readFileSync(join(smartdc, 'logs', 'sdc-guest.log'), 'utf8'), 'get-user-data: ok: C:\\smartdc\\user-data written (9 bytes)');
    rmSync(smartdc, { recursive: true, force: true });

    // The executable alone, under its own name, in a folder of its own.
    const alone = mkdtempSync(join(tmpdir(), 'wine-alone-'));
    copyFileSync(exe('mdata-get'), join(alone, 'mdata-get.exe'));
    const get = await wine.run(join(alone, 'mdata-get.exe'), ['sdc:uuid']);
    assert.is(get.stderr, '');
    assert.is(get.stdout, '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n');
    rmSync(alone, { recursive: true, force: true });
  } finally {
    await wine.stop();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

windows.run();
