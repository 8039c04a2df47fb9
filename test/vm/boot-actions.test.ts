// Scenarios 2 and 3: a Debian guest with our tools installed by `sdc-guest install --root` boots
// twice from the same disk. The first boot applies everything with no hand-made step; the second
// runs the first-boot actions zero times and the per-boot ones again.
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blankDisk, readImageFile } from './guest-image';
import type { BootResult } from './guest-vm';
import { runCommand } from './host-commands';
import { assertNetworkApplied } from './network-checks';
import { fixture, savedStatus, unitStates, vmSuite, type Scenario } from './scenario';

const seed = JSON.parse(readFileSync(fixture('boot-metadata.json'), 'utf8'));
const vmFile = JSON.parse(readFileSync(fixture('boot-vm.json'), 'utf8'));
const vm = vmSuite('scenarios 2 and 3: the boot actions on a first and a second boot', ['boot']);
let scenario: Scenario;
let dataDisk = '';
const boots: BootResult[] = [];

/** A check on boot `n` (1 or 2). */
function onBoot(n: number, name: string, check: (sc: Scenario, b: BootResult) => Promise<void>): void {
  vm.testBoot(name, () => boots[n - 1], (b) => check(scenario, b));
}

vm.test('first boot: the guest boots with a blank data disk and powers itself off', async () => {
  scenario = vm.scenario(fixture('boot-metadata.json'), fixture('boot-vm.json'));
  dataDisk = blankDisk(join(scenario.dir, 'data.img'), 1024 ** 3);
  boots.push(await scenario.boot('boot-report,plant-sentinels', { dataDisks: [dataDisk] }));
  assert.is(boots[0].rc, 0);
});

onBoot(1, 'first boot: our units ran and succeeded; the system reached multi-user', async (sc, b) => {
  assert.is(savedStatus(b, 'multi-user'), 0);
  assert.equal(await unitStates(sc, 1), { 'sdc-guest-scripts.service': 'active', 'sdc-guest.service': 'active' });
});

onBoot(1, 'first boot: hostname from the metadata, /etc/hostname and /etc/hosts agree, hostid from sdc:uuid', async (sc) => {
  assert.is(await sc.saved(1, 'hostname'), `${seed.customer_metadata.hostname}\n`);
  assert.is(await sc.saved(1, 'etc-hostname'), `${seed.customer_metadata.hostname}\n`);
  assert.match(await sc.saved(1, 'etc-hosts'), new RegExp(`^127\\.0\\.1\\.1\\s.*\\b${seed.customer_metadata.hostname}\\b`, 'm'));
  assert.is(await sc.saved(1, 'hostid'), `${vmFile.uuid.slice(0, 8)}\n`);
});

onBoot(1, "first boot: root's authorized_keys byte for byte, 0700/0600 root; root_pw applied", async (sc) => {
  assert.is(await sc.saved(1, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
  assert.is(await sc.saved(1, 'authorized-keys-modes'), '/root/.ssh 700 root\n/root/.ssh/authorized_keys 600 root\n');
  assert.is(await sc.saved(1, 'root-pw'), 'matches\n');
});

onBoot(1, 'first boot: the operator-script ran before the user-script, both could use mdata-get; user-data written 0600', async (sc) => {
  const bootId = (await sc.saved(1, 'boot-id')).trim();
  assert.is(await sc.saved(1, 'scripts-log'), `operator-script ${bootId} ${vmFile.uuid}\nuser-script ${bootId} ${vmFile.uuid}\n`);
  assert.is(await sc.saved(1, 'user-data'), seed.customer_metadata['user-data']);
  assert.is(await sc.saved(1, 'user-data-mode'), '600 root\n');
});

onBoot(1, 'first boot: the blank data disk is partitioned (GPT, 1 MiB aligned), ext4, in fstab by UUID with nofail, on /data', async (sc, b) => {
  const mount = (await sc.savedJson(1, 'data-mount')).filesystems[0];
  assert.equal(mount, { source: '/dev/vdb1', fstype: 'ext4', target: '/data' });
  assert.is(savedStatus(b, 'plant-data'), 0);
  const uuid = (await sc.saved(1, 'data-uuid')).trim();
  assert.match(await sc.saved(1, 'fstab'), new RegExp(`^UUID=${uuid}\\s+/data\\s+ext4\\s+\\S*nofail`, 'm'));
  const table = JSON.parse((await runCommand('sfdisk', ['--json', dataDisk])).stdout.toString()).partitiontable;
  assert.is(table.label, 'gpt');
  assert.is(table.partitions.length, 1);
  assert.is(table.partitions[0].start, 2048);
  const offset = table.partitions[0].start * table.sectorsize;
  assert.is((await readImageFile(`${dataDisk}?offset=${offset}`, '/sentinel')).toString(), 'planted on boot 1\n');
});

onBoot(1, 'first boot: static addresses from sdc:nics on the interfaces with those MACs, mtu, gateway, route, resolvers', (sc) => assertNetworkApplied(sc, 1, vmFile));

vm.test('second boot: the same disk boots again with changed metadata and powers itself off', async () => {
  if (boots.length !== 1) throw new Error('the first boot did not happen');
  const metadata = scenario.metadata() as typeof seed;
  metadata.customer_metadata = { ...metadata.customer_metadata, hostname: 'vm-second-boot', 'user-data': 'changed for boot 2\n', root_authorized_keys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIChangedKey changed@host\n' };
  metadata.internal_metadata = { ...metadata.internal_metadata, root_pw: 'second-boot-Pa55' };
  writeFileSync(scenario.files.metadata, JSON.stringify(metadata));
  boots.push(await scenario.boot('boot-report', { dataDisks: [dataDisk] }));
  assert.is(boots[1].rc, 0);
});

onBoot(2, 'second boot: first-boot actions ran zero times (user-script, hostid, root_pw, data disk)', async (sc) => {
  const [first, second] = [(await sc.saved(1, 'boot-id')).trim(), (await sc.saved(2, 'boot-id')).trim()];
  assert.is.not(first, second);
  assert.is(await sc.saved(2, 'scripts-log'), `operator-script ${first} ${vmFile.uuid}\nuser-script ${first} ${vmFile.uuid}\noperator-script ${second} ${vmFile.uuid}\n`);
  assert.is((await readImageFile((await sc.rootImage()).rootImage, '/etc/hostid')).toString(), 'SDC!');
  assert.is(await sc.saved(2, 'root-pw'), 'differs\n', 'root_pw changed in the metadata must not be applied again');
  assert.is(await sc.saved(2, 'data-uuid'), await sc.saved(1, 'data-uuid'));
  assert.is(await sc.saved(2, 'data-sentinel'), 'planted on boot 1\n');
});

onBoot(2, 'second boot: per-boot actions ran again (hostname, user-data); existing authorized_keys kept', async (sc) => {
  assert.is(await sc.saved(2, 'hostname'), 'vm-second-boot\n');
  assert.is(await sc.saved(2, 'user-data'), 'changed for boot 2\n');
  assert.is(await sc.saved(2, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
});

vm.run();
