// Every PowerShell script we ship or generate, parsed by tree-sitter-powershell: no ERROR or
// MISSING node anywhere. No PowerShell runs here; this catches what a Windows run would reject
// before it starts (a quote left open, a brace too many, a broken pipeline).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SET_PASSWORD_SCRIPT } from '../../lib/guest/windows/administrator-password';
import { ADAPTER_QUERY } from '../../lib/guest/windows/configure-network';
import { DISK_QUERY, formatScript } from '../../lib/guest/windows/format-secondary-disk';
import { NAME_QUERY, renameScript } from '../../lib/guest/windows/hostname';
import { queryText } from '../../lib/guest/windows/powershell';
import { DISABLE_TASK_SCRIPT, FACTS_QUERY } from '../../lib/guest/windows/prepare-image';
import { routeWaitQuery } from '../../lib/guest/windows/scripts';
import { NETWORK_FIXTURES } from '../support/network-cases';
import { syntaxErrors } from '../support/powershell-syntax';
import { repoRoot } from '../support/run-tool';

const disk = { number: 1, partitionStyle: 'RAW', partitions: 0, boot: false, system: false, offline: true, readOnly: true, size: 10737418240, busType: 'SCSI', uniqueId: "6002248'0e1f", name: 'Red Hat VirtIO SCSI Disk Device' };

const scripts: Record<string, string> = {
  'set-administrator-password': SET_PASSWORD_SCRIPT,
  'set-hostname': renameScript('web01'),
  'format-secondary-disk': formatScript(disk, 'E'),
  'prepare-image: disable the boot task': DISABLE_TASK_SCRIPT,
  'query: network adapters': queryText('network adapters', ADAPTER_QUERY),
  'query: disks': queryText('disks', DISK_QUERY),
  'query: computer name': queryText('computer name', NAME_QUERY),
  'query: image readiness': queryText('image readiness', FACTS_QUERY),
  'query: default route': queryText('default route', routeWaitQuery(30)),
};
const golden = join(NETWORK_FIXTURES, 'golden');
for (const c of readdirSync(golden)) {
  const file = join(golden, c, 'windows', 'configure-network.ps1');
  if (existsSync(file)) scripts[`configure-network for ${c}`] = readFileSync(file, 'utf8');
}
const shipped = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? shipped(join(dir, e.name)) : e.name.endsWith('.ps1') ? [join(dir, e.name)] : []));
for (const file of shipped(join(repoRoot, 'windows'))) scripts[file.slice(repoRoot.length + 1)] = readFileSync(file, 'utf8');

for (const [name, text] of Object.entries(scripts)) {
  test(`${name} parses`, async () => {
    assert.equal(await syntaxErrors(text), []);
  });
}

test('the check finds errors: an open brace, an open string, a stray closing paren', async () => {
  assert.ok((await syntaxErrors('if ($x) {\n  Write-Output 1\n')).length > 0);
  assert.ok((await syntaxErrors("Write-Output 'never closed\n")).length > 0);
  assert.ok((await syntaxErrors('Get-Item x)\n')).length > 0);
});

test('the shipped scripts are there to check', () => {
  assert.ok(Object.keys(scripts).includes('windows/install.ps1'));
});

test.run();
