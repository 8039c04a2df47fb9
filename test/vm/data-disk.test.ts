// Scenario 4: a data disk that already holds a filesystem (a GPT partition with ext4 and files on
// it, as a disk moved from another instance) is left byte for byte as it was by the first boot.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from '../../build/common';
import { skipTest } from '../support/skip';
import { blankDisk, haveTools } from './guest-image';
import type { BootResult } from './guest-vm';
import { runCommand } from './host-commands';
import { aboutBoot, Scenario, vmUnavailable } from './scenario';

const FIXTURES = join(__dirname, 'fixtures');
const s = suite('scenario 4: a data disk holding a filesystem stays byte-identical');
let unavailable: string | null = null;
let scenario: Scenario | undefined;

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable && !(await haveTools('boot', 'format-secondary-disk'))) unavailable = 'sdc-guest has no boot and format-secondary-disk tools yet';
  if (!unavailable) scenario = new Scenario(join(FIXTURES, 'boot-metadata.json'), join(FIXTURES, 'boot-vm.json'));
});

s.after(async () => {
  await scenario?.close();
});

/** 256 MiB: a GPT with one Linux partition at 1 MiB holding ext4 with a file in it. */
async function usedDisk(dir: string): Promise<string> {
  const content = join(dir, 'old-data');
  mkdirSync(content);
  writeFileSync(join(content, 'customer-file'), 'data from the instance this disk came from\n');
  const disk = blankDisk(join(dir, 'used-data.img'), 256 * 1024 ** 2);
  await runCommand('sh', ['-c', 'printf "label: gpt\\nstart=2048, type=L\\n" | sfdisk -q "$0"', disk]);
  await runCommand('mke2fs', ['-q', '-F', '-t', 'ext4', '-E', `offset=${2048 * 512}`, '-d', content, disk, '200M']);
  return disk;
}

s('the first boot leaves the used data disk byte-identical and does not put it in fstab', async () => {
  if (unavailable) return skipTest(unavailable);
  const disk = await usedDisk(scenario!.dir);
  const before = await hashFile(disk);
  const boot: BootResult = await scenario!.boot('boot-report', { dataDisks: [disk] });
  await aboutBoot(boot, async () => {
    assert.is(boot.rc, 0);
    assert.is(await hashFile(disk), before);
    assert.not.match(await scenario!.saved(1, 'fstab'), /\s\/data\s/);
    assert.is(await scenario!.saved(1, 'hostname'), 'vm-first-boot\n', 'the other first-boot actions still ran');
  });
});

s.run();
