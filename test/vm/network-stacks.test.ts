// Scenario 5: the same sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain applied at first
// boot on three guests made from the one cached root: ifupdown, netplan + systemd-networkd, and
// NetworkManager.
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { NetworkStack } from './guest-image';
import type { BootResult } from './guest-vm';
import { assertNetworkApplied } from './network-checks';
import { fixture, vmSuite, type Scenario } from './scenario';

const vmFile = JSON.parse(readFileSync(fixture('boot-vm.json'), 'utf8'));
const vm = vmSuite('scenario 5: one sdc:nics on ifupdown, netplan + networkd and NetworkManager guests', ['boot', 'configure-network']);

for (const stack of ['ifupdown', 'netplan', 'networkmanager'] as NetworkStack[]) {
  let scenario: Scenario;
  let boot: BootResult | undefined;
  vm.test(`${stack}: the guest boots and powers itself off`, async () => {
    scenario = vm.scenario(fixture('boot-metadata.json'), fixture('boot-vm.json'), stack);
    boot = await scenario.boot('boot-report');
    assert.is(boot.rc, 0);
  });
  vm.testBoot(`${stack}: addresses by MAC, mtu, gateway, routes and resolvers`, () => boot, () => assertNetworkApplied(scenario, 1, vmFile));
}

vm.run();
