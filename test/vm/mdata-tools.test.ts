// Scenario 1: a Debian guest under QEMU runs mdata-get, mdata-list, mdata-put and mdata-delete
// over its second serial port; the host's mdata-server --connect answers and keeps the changes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import type { BootResult } from './guest-vm';
import { aboutBoot, FIXTURES, Scenario, savedStatus, vmUnavailable } from './scenario';

const seed = JSON.parse(readFileSync(join(FIXTURES, 'scenario-metadata.json'), 'utf8'));
const s = suite('scenario 1: the mdata tools in a Debian guest over ttyS1');
let unavailable: string | null = null;
let scenario: Scenario | undefined;
let boot: BootResult | undefined;

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable) scenario = new Scenario(join(FIXTURES, 'scenario-metadata.json'), join(FIXTURES, 'scenario-vm.json'));
});

s.after(async () => {
  await scenario?.close();
});

/** Runs `check` on the boot, or skips when this machine cannot boot guests. */
function withBoot(name: string, check: (scenario: Scenario, boot: BootResult) => Promise<void>): void {
  s(name, async () => {
    if (unavailable) return skipTest(unavailable);
    if (!scenario || !boot) throw new Error('the guest did not boot (see the first test)');
    const [sc, b] = [scenario, boot];
    await aboutBoot(b, () => check(sc, b));
  });
}

s('the guest boots, runs the tools and powers itself off', async () => {
  if (unavailable) return skipTest(unavailable);
  boot = await scenario!.boot('mdata-tools');
  assert.is(boot.rc, 0);
});

withBoot('mdata-get sdc:uuid gives the VM uuid', async (sc, b) => {
  assert.is(savedStatus(b, 'uuid'), 0);
  assert.is(await sc.saved(1, 'uuid'), `${sc.vm.uuid}\n`);
});

withBoot('mdata-list gives the customer keys, then the internal _pw keys', async (sc, b) => {
  assert.is(savedStatus(b, 'list'), 0);
  const keys = [...Object.keys(seed.customer_metadata), ...Object.keys(seed.internal_metadata).filter((k) => k.endsWith('_pw'))];
  assert.is(await sc.saved(1, 'list'), keys.map((k) => `${k}\n`).join(''));
});

withBoot('mdata-get gives UTF-8 and dot-led multi-line values byte for byte', async (sc, b) => {
  assert.is(savedStatus(b, 'utf8'), 0);
  assert.is(await sc.saved(1, 'utf8'), `${seed.customer_metadata.utf8}\n`);
  assert.is(savedStatus(b, 'dotty'), 0);
  assert.is(await sc.saved(1, 'dotty'), `${seed.customer_metadata.dotty}\n`);
});

withBoot("mdata-put's value is in the server's file and reads back", async (sc, b) => {
  const value = 'written by the guest\nsecond line';
  assert.is(savedStatus(b, 'put'), 0);
  assert.is(sc.metadata().customer_metadata?.['vm-put'], value);
  assert.is(savedStatus(b, 'get-put'), 0);
  assert.is(await sc.saved(1, 'get-put'), `${value}\n`);
});

withBoot("mdata-delete removes the key from the server's file; a later get finds nothing", async (sc, b) => {
  assert.is(savedStatus(b, 'delete'), 0);
  assert.is(seed.customer_metadata['no-newline'], 'abc');
  assert.not.ok('no-newline' in (sc.metadata().customer_metadata ?? {}));
  assert.is(savedStatus(b, 'get-deleted'), 1);
  assert.is(await sc.saved(1, 'get-deleted'), '');
});

s.run();
