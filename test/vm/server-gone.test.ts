// Scenario 6: the host's metadata server goes away while the guest boots (stopped when our unit
// starts). The boot still ends and reaches multi-user; the next boot, with the server back,
// applies everything.
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { BootResult } from './guest-vm';
import { fixture, savedStatus, unitStates, vmSuite, type Scenario } from './scenario';

const seed = JSON.parse(readFileSync(fixture('boot-metadata.json'), 'utf8'));
const vmFile = JSON.parse(readFileSync(fixture('boot-vm.json'), 'utf8'));
const vm = vmSuite('scenario 6: the metadata server stops mid-boot', ['boot']);
let scenario: Scenario;
let stopped = false;
let gone: BootResult | undefined;
let back: BootResult | undefined;

vm.test('the server stops when our unit starts; the guest still powers itself off', async () => {
  scenario = vm.scenario(fixture('boot-metadata.json'), fixture('boot-vm.json'));
  gone = await scenario.boot('boot-report', {
    watch: (line, guest) => {
      if (stopped || !/Starting sdc-guest/.test(line)) return;
      stopped = true;
      void guest.stopServer();
    },
  });
  assert.is(gone.rc, 0);
});

vm.testBoot('without the server: our units ended and said why, the system reached multi-user', () => gone, async (b) => {
  assert.ok(stopped, 'the console never showed our unit starting');
  assert.is(savedStatus(b, 'multi-user'), 0);
  for (const [unit, state] of Object.entries(await unitStates(scenario, 1))) assert.ok(['active', 'failed'].includes(state), `${unit} has ended: ${state}`);
  assert.match(await scenario.saved(1, 'journal'), /timed out/, 'our unit says why it applied nothing');
});

vm.test('the next boot, with the server back, powers itself off', async () => {
  if (!gone) throw new Error('the first boot did not happen');
  back = await scenario.boot('boot-report');
  assert.is(back.rc, 0);
});

vm.testBoot('the next boot applies everything, the user-script once', () => back, async () => {
  const bootId = (await scenario.saved(2, 'boot-id')).trim();
  assert.is(await scenario.saved(2, 'hostname'), `${seed.customer_metadata.hostname}\n`);
  assert.is(await scenario.saved(2, 'hostid'), `${vmFile.uuid.slice(0, 8)}\n`);
  assert.is(await scenario.saved(2, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
  assert.is(await scenario.saved(2, 'user-data'), seed.customer_metadata['user-data']);
  const userScriptRuns = (await scenario.saved(2, 'scripts-log')).split('\n').filter((l) => l.startsWith('user-script '));
  assert.equal(userScriptRuns, [`user-script ${bootId} ${vmFile.uuid}`]);
});

vm.run();
