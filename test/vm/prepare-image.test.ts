// Scenario 7: `sdc-guest prepare-image` inside a booted guest, then a boot with a new sdc:uuid, as
// for a new instance made from the image: the first-boot actions run again.
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import type { BootResult } from './guest-vm';
import { fixture, savedStatus, vmSuite, type Scenario } from './scenario';

const seed = JSON.parse(readFileSync(fixture('boot-metadata.json'), 'utf8'));
const OLD_UUID: string = JSON.parse(readFileSync(fixture('boot-vm.json'), 'utf8')).uuid;
const NEW_UUID = 'a0b1c2d3-e4f5-4617-8293-a4b5c6d7e8f9';
const vm = vmSuite('scenario 7: prepare-image, then a new instance from the image', ['boot', 'prepare-image']);
let scenario: Scenario;
let prepared: BootResult | undefined;
let fresh: BootResult | undefined;

vm.test('a first boot, then prepare-image in the guest', async () => {
  scenario = vm.scenario(fixture('boot-metadata.json'), fixture('boot-vm.json'));
  prepared = await scenario.boot('boot-report,prepare-image');
  assert.is(prepared.rc, 0);
  assert.is(savedStatus(prepared, 'prepare-image'), 0);
});

vm.test('the image boots as a new instance (new sdc:uuid) and powers itself off', async () => {
  if (!prepared) throw new Error('the first boot did not happen');
  writeFileSync(scenario.files.vm, JSON.stringify({ ...scenario.vm, uuid: NEW_UUID }));
  fresh = await scenario.boot('boot-report');
  assert.is(fresh.rc, 0);
});

vm.testBoot('the new instance ran the first-boot actions again', () => fresh, async () => {
  const [first, second] = [(await scenario.saved(1, 'boot-id')).trim(), (await scenario.saved(2, 'boot-id')).trim()];
  assert.is(await scenario.saved(2, 'hostid'), `${NEW_UUID.slice(0, 8)}\n`);
  assert.is(await scenario.saved(2, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
  assert.is(await scenario.saved(2, 'user-data'), seed.customer_metadata['user-data']);
  assert.is.not(await scenario.saved(2, 'machine-id'), await scenario.saved(1, 'machine-id'));
  const userScriptRuns = (await scenario.saved(2, 'scripts-log')).split('\n').filter((l) => l.startsWith('user-script '));
  assert.equal(userScriptRuns, [`user-script ${first} ${OLD_UUID}`, `user-script ${second} ${NEW_UUID}`]);
});

vm.run();
