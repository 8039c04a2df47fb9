import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync, writeFileSync } from 'node:fs';
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

windows.run();
