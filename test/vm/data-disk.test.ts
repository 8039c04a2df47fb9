// Scenario 4: a data disk that already holds a filesystem (a GPT partition with ext4 and files on
// it, as a disk moved from another instance) is left byte for byte as it was by the first boot.
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from '../../build/common';
import { blankDisk } from './guest-image';
import type { BootResult } from './guest-vm';
import { runCommand } from './host-commands';
import { fixture, vmSuite, type Scenario } from './scenario';

const vm = vmSuite('scenario 4: a data disk holding a filesystem stays byte-identical', ['boot', 'format-secondary-disk']);
let scenario: Scenario;
let disk = '';
let before = '';
let boot: BootResult | undefined;

/** 256 MiB: a GPT with one Linux partition at 1 MiB holding ext4 with a file in it. */
async function usedDisk(dir: string): Promise<string> {
  const content = join(dir, 'old-data');
  mkdirSync(content);
  writeFileSync(join(content, 'customer-file'), 'data from the instance this disk came from\n');
  const path = blankDisk(join(dir, 'used-data.img'), 256 * 1024 ** 2);
  await runCommand('sh', ['-c', 'printf "label: gpt\\nstart=2048, type=L\\n" | sfdisk -q "$0"', path]);
  await runCommand('mke2fs', ['-q', '-F', '-t', 'ext4', '-E', `offset=${2048 * 512}`, '-d', content, path, '200M']);
  return path;
}

vm.test('the guest boots with a used data disk and powers itself off', async () => {
  scenario = vm.scenario(fixture('boot-metadata.json'), fixture('boot-vm.json'));
  disk = await usedDisk(scenario.dir);
  before = await hashFile(disk);
  boot = await scenario.boot('boot-report', { dataDisks: [disk] });
  assert.is(boot.rc, 0);
});

vm.testBoot('the used data disk is byte-identical and not in fstab; the other first-boot actions ran', () => boot, async () => {
  assert.is(await hashFile(disk), before);
  assert.not.match(await scenario.saved(1, 'fstab'), /\s\/data\s/);
  assert.is(await scenario.saved(1, 'hostname'), 'vm-first-boot\n');
});

vm.run();
