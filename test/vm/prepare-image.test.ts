// Scenario 7: `sdc-guest prepare-image` inside a booted guest, then a boot with a new sdc:uuid, as
// for a new instance made from the image: the first-boot actions run again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import { haveTools } from './guest-image';
import type { BootResult } from './guest-vm';
import { aboutBoot, Scenario, savedStatus, vmUnavailable } from './scenario';

const FIXTURES = join(__dirname, 'fixtures');
const seed = JSON.parse(readFileSync(join(FIXTURES, 'boot-metadata.json'), 'utf8'));
const OLD_UUID: string = JSON.parse(readFileSync(join(FIXTURES, 'boot-vm.json'), 'utf8')).uuid;
const NEW_UUID = 'a0b1c2d3-e4f5-4617-8293-a4b5c6d7e8f9';
const s = suite('scenario 7: prepare-image, then a new instance from the image');
let unavailable: string | null = null;
let scenario: Scenario | undefined;
let prepared: BootResult | undefined;

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable && !(await haveTools('boot', 'prepare-image'))) unavailable = 'sdc-guest has no boot and prepare-image tools yet';
  if (!unavailable) scenario = new Scenario(join(FIXTURES, 'boot-metadata.json'), join(FIXTURES, 'boot-vm.json'));
});

s.after(async () => {
  await scenario?.close();
});

s('a first boot, then prepare-image in the guest', async () => {
  if (unavailable) return skipTest(unavailable);
  prepared = await scenario!.boot('boot-report,prepare-image');
  await aboutBoot(prepared, async () => {
    assert.is(prepared!.rc, 0);
    assert.is(savedStatus(prepared!, 'prepare-image'), 0);
  });
});

s('a boot with a new sdc:uuid runs the first-boot actions again, for the new instance', async () => {
  if (unavailable) return skipTest(unavailable);
  if (!prepared) throw new Error('the first boot did not happen');
  writeFileSync(scenario!.files.vm, JSON.stringify({ ...scenario!.vm, uuid: NEW_UUID }));
  const boot = await scenario!.boot('boot-report');
  await aboutBoot(boot, async () => {
    assert.is(boot.rc, 0);
    const [first, second] = [(await scenario!.saved(1, 'boot-id')).trim(), (await scenario!.saved(2, 'boot-id')).trim()];
    assert.is(await scenario!.saved(2, 'hostid'), `${NEW_UUID.slice(0, 8)}\n`);
    assert.is(await scenario!.saved(2, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
    assert.is(await scenario!.saved(2, 'user-data'), seed.customer_metadata['user-data']);
    assert.is.not(await scenario!.saved(2, 'machine-id'), await scenario!.saved(1, 'machine-id'));
    const userScriptRuns = (await scenario!.saved(2, 'scripts-log')).split('\n').filter((l) => l.startsWith('user-script '));
    assert.equal(userScriptRuns, [`user-script ${first} ${OLD_UUID}`, `user-script ${second} ${NEW_UUID}`]);
  });
});

s.run();
