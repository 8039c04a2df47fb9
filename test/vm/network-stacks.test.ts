// Scenario 5: the same sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain applied at first
// boot on three guests made from the one cached root: ifupdown, netplan + systemd-networkd, and
// NetworkManager.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import { haveTools, type NetworkStack } from './guest-image';
import { assertNetworkApplied } from './network-checks';
import { aboutBoot, Scenario, vmUnavailable } from './scenario';

const FIXTURES = join(__dirname, 'fixtures');
const vm = JSON.parse(readFileSync(join(FIXTURES, 'boot-vm.json'), 'utf8'));
const s = suite('scenario 5: one sdc:nics on ifupdown, netplan + networkd and NetworkManager guests');
let unavailable: string | null = null;
const scenarios: Scenario[] = [];

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable && !(await haveTools('boot', 'configure-network'))) unavailable = 'sdc-guest has no boot and configure-network tools yet';
});

s.after(async () => {
  for (const sc of scenarios) await sc.close();
});

for (const stack of ['ifupdown', 'netplan', 'networkmanager'] as NetworkStack[]) {
  s(`${stack}: addresses by MAC, mtu, gateway, routes and resolvers after the first boot`, async () => {
    if (unavailable) return skipTest(unavailable);
    const sc = new Scenario(join(FIXTURES, 'boot-metadata.json'), join(FIXTURES, 'boot-vm.json'), stack);
    scenarios.push(sc);
    const boot = await sc.boot('boot-report');
    await aboutBoot(boot, async () => {
      assert.is(boot.rc, 0);
      await assertNetworkApplied(sc, 1, vm);
    });
  });
}

s.run();
