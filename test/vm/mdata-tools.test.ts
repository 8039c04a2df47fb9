// Scenario 1: a Debian guest under QEMU runs mdata-get, mdata-list, mdata-put and mdata-delete
// over its second serial port; the host's mdata-server --connect answers and keeps the changes.
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootResult } from './guest-vm';
import { savedStatus, vmSuite, type Scenario } from './scenario';

const METADATA = join(__dirname, '..', 'fixtures', 'scenario-metadata.json');
const VM = join(__dirname, '..', 'fixtures', 'scenario-vm.json');
const seed = JSON.parse(readFileSync(METADATA, 'utf8'));
const vm = vmSuite('scenario 1: the mdata tools in a Debian guest over ttyS1');
let scenario: Scenario;
let boot: BootResult | undefined;

vm.test('the guest boots, runs the tools and powers itself off', async () => {
  scenario = vm.scenario(METADATA, VM);
  boot = await scenario.boot('mdata-tools');
  assert.is(boot.rc, 0);
});

vm.testBoot('mdata-get sdc:uuid gives the VM uuid', () => boot, async (b) => {
  assert.is(savedStatus(b, 'uuid'), 0);
  assert.is(await scenario.saved(1, 'uuid'), `${scenario.vm.uuid}\n`);
});

vm.testBoot('mdata-list gives the customer keys, then the internal _pw keys', () => boot, async (b) => {
  assert.is(savedStatus(b, 'list'), 0);
  const keys = [...Object.keys(seed.customer_metadata), ...Object.keys(seed.internal_metadata).filter((k) => k.endsWith('_pw'))];
  assert.is(await scenario.saved(1, 'list'), keys.map((k) => `${k}\n`).join(''));
});

vm.testBoot('mdata-get gives UTF-8 and dot-led multi-line values byte for byte', () => boot, async (b) => {
  assert.is(savedStatus(b, 'utf8'), 0);
  assert.is(await scenario.saved(1, 'utf8'), `${seed.customer_metadata.utf8}\n`);
  assert.is(savedStatus(b, 'dotty'), 0);
  assert.is(await scenario.saved(1, 'dotty'), `${seed.customer_metadata.dotty}\n`);
});

vm.testBoot("mdata-put's value is in the server's file and reads back", () => boot, async (b) => {
  const value = 'written by the guest\nsecond line';
  assert.is(savedStatus(b, 'put'), 0);
  assert.is(scenario.metadata().customer_metadata?.['vm-put'], value);
  assert.is(savedStatus(b, 'get-put'), 0);
  assert.is(await scenario.saved(1, 'get-put'), `${value}\n`);
});

vm.testBoot("mdata-delete removes the key from the server's file; a later get finds nothing", () => boot, async (b) => {
  assert.is(savedStatus(b, 'delete'), 0);
  assert.is(seed.customer_metadata['no-newline'], 'abc');
  assert.not.ok('no-newline' in (scenario.metadata().customer_metadata ?? {}));
  assert.is(savedStatus(b, 'get-deleted'), 1);
  assert.is(await scenario.saved(1, 'get-deleted'), '');
});

vm.run();
