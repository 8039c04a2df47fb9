// Scenario 6: the host's metadata server goes away while the guest boots (stopped when our unit
// starts). The boot still ends and reaches multi-user; the next boot, with the server back,
// applies everything.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import { haveTools } from './guest-image';
import type { BootResult } from './guest-vm';
import { aboutBoot, Scenario, savedStatus, vmUnavailable } from './scenario';

const FIXTURES = join(__dirname, 'fixtures');
const seed = JSON.parse(readFileSync(join(FIXTURES, 'boot-metadata.json'), 'utf8'));
const vm = JSON.parse(readFileSync(join(FIXTURES, 'boot-vm.json'), 'utf8'));
const s = suite('scenario 6: the metadata server stops mid-boot');
let unavailable: string | null = null;
let scenario: Scenario | undefined;
let gone: BootResult | undefined;

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable && !(await haveTools('boot'))) unavailable = 'sdc-guest has no boot tool yet';
  if (!unavailable) scenario = new Scenario(join(FIXTURES, 'boot-metadata.json'), join(FIXTURES, 'boot-vm.json'));
});

s.after(async () => {
  await scenario?.close();
});

s('the server stops when our unit starts: the boot still reaches multi-user and powers off', async () => {
  if (unavailable) return skipTest(unavailable);
  let stopped = false;
  gone = await scenario!.boot('boot-report', {
    watch: (line, guest) => {
      if (stopped || !/Starting sdc-guest/.test(line)) return;
      stopped = true;
      void guest.stopServer();
    },
  });
  await aboutBoot(gone, async () => {
    assert.ok(stopped, 'the console never showed our unit starting');
    assert.is(gone!.rc, 0);
    assert.is(savedStatus(gone!, 'multi-user'), 0);
    assert.not.match(await scenario!.saved(1, 'units'), /activating/);
  });
});

s('the next boot, with the server back, applies everything once', async () => {
  if (unavailable) return skipTest(unavailable);
  if (!gone) throw new Error('the first boot did not happen');
  const boot = await scenario!.boot('boot-report');
  await aboutBoot(boot, async () => {
    assert.is(boot.rc, 0);
    const bootId = (await scenario!.saved(2, 'boot-id')).trim();
    assert.is(await scenario!.saved(2, 'hostname'), `${seed.customer_metadata.hostname}\n`);
    assert.is(await scenario!.saved(2, 'hostid'), `${vm.uuid.slice(0, 8)}\n`);
    assert.is(await scenario!.saved(2, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
    assert.is(await scenario!.saved(2, 'user-data'), seed.customer_metadata['user-data']);
    const userScriptRuns = (await scenario!.saved(2, 'scripts-log')).split('\n').filter((l) => l.startsWith('user-script '));
    assert.equal(userScriptRuns, [`user-script ${bootId} ${vm.uuid}`]);
  });
});

s.run();
