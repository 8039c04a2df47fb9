// Scenarios 2 and 3: a Debian guest with our tools installed by `sdc-guest install --root` boots
// twice from the same disk. The first boot applies everything with no hand-made step; the second
// runs the first-boot actions zero times and the per-boot ones again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import { blankDisk, haveTools, readImageFile } from './guest-image';
import type { BootResult } from './guest-vm';
import { runCommand } from './host-commands';
import { assertNetworkApplied } from './network-checks';
import { aboutBoot, Scenario, savedStatus, vmUnavailable } from './scenario';

const FIXTURES = join(__dirname, 'fixtures');
const seed = JSON.parse(readFileSync(join(FIXTURES, 'boot-metadata.json'), 'utf8'));
const vm = JSON.parse(readFileSync(join(FIXTURES, 'boot-vm.json'), 'utf8'));
const s = suite('scenarios 2 and 3: the boot actions on a first and a second boot');

let unavailable: string | null = null;
let scenario: Scenario | undefined;
let dataDisk = '';
const boots: BootResult[] = [];

s.before(async () => {
  unavailable = await vmUnavailable();
  if (!unavailable && !(await haveTools('boot'))) unavailable = 'sdc-guest has no boot tool yet';
  if (unavailable) return;
  scenario = new Scenario(join(FIXTURES, 'boot-metadata.json'), join(FIXTURES, 'boot-vm.json'));
  dataDisk = blankDisk(join(scenario.dir, 'data.img'), 1024 ** 3);
});

s.after(async () => {
  await scenario?.close();
});

/** A check on boot `n` (1 or 2), or a skip when this machine cannot boot guests. */
function onBoot(n: number, name: string, check: (sc: Scenario, b: BootResult) => Promise<void>): void {
  s(name, async () => {
    if (unavailable) return skipTest(unavailable);
    const [sc, b] = [scenario, boots[n - 1]];
    if (!sc || !b) throw new Error(`boot ${n} did not happen (see the test that boots it)`);
    await aboutBoot(b, () => check(sc, b));
  });
}

s('first boot: the guest boots with a blank data disk and powers itself off', async () => {
  if (unavailable) return skipTest(unavailable);
  boots.push(await scenario!.boot('boot-report,plant-sentinels', { dataDisks: [dataDisk] }));
  assert.is(boots[0].rc, 0);
});

onBoot(1, 'first boot: our unit ran and the system reached multi-user', async (sc, b) => {
  assert.is(savedStatus(b, 'multi-user'), 0);
  assert.match(await sc.saved(1, 'units'), /^sdc-guest\S*\.service\s+loaded\s+active/m);
});

onBoot(1, 'first boot: hostname from the metadata, /etc/hostname and /etc/hosts agree, hostid from sdc:uuid', async (sc) => {
  assert.is(await sc.saved(1, 'hostname'), `${seed.customer_metadata.hostname}\n`);
  assert.is(await sc.saved(1, 'etc-hostname'), `${seed.customer_metadata.hostname}\n`);
  assert.match(await sc.saved(1, 'etc-hosts'), new RegExp(`^127\\.0\\.1\\.1\\s.*\\b${seed.customer_metadata.hostname}\\b`, 'm'));
  assert.is(await sc.saved(1, 'hostid'), `${vm.uuid.slice(0, 8)}\n`);
});

onBoot(1, "first boot: root's authorized_keys byte for byte, 0700/0600 root; root_pw applied", async (sc) => {
  assert.is(await sc.saved(1, 'authorized-keys'), seed.customer_metadata.root_authorized_keys);
  assert.is(await sc.saved(1, 'authorized-keys-modes'), '/root/.ssh 700 root\n/root/.ssh/authorized_keys 600 root\n');
  assert.is(await sc.saved(1, 'root-pw'), 'matches\n');
});

onBoot(1, 'first boot: the operator-script ran before the user-script, both could use mdata-get; user-data written 0600', async (sc) => {
  const bootId = (await sc.saved(1, 'boot-id')).trim();
  assert.is(await sc.saved(1, 'scripts-log'), `operator-script ${bootId} ${vm.uuid}\nuser-script ${bootId} ${vm.uuid}\n`);
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

onBoot(1, 'first boot: static addresses from sdc:nics on the interfaces with those MACs, mtu, gateway, route, resolvers', (sc) => assertNetworkApplied(sc, 1, vm));

s('second boot: the same disk boots again with changed metadata and powers itself off', async () => {
  if (unavailable) return skipTest(unavailable);
  if (boots.length !== 1) throw new Error('the first boot did not happen');
  const metadata = scenario!.metadata() as typeof seed;
  metadata.customer_metadata = { ...metadata.customer_metadata, hostname: 'vm-second-boot', 'user-data': 'changed for boot 2\n', root_authorized_keys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIChangedKey changed@host\n' };
  metadata.internal_metadata = { ...metadata.internal_metadata, root_pw: 'second-boot-Pa55' };
  writeFileSync(scenario!.files.metadata, JSON.stringify(metadata));
  boots.push(await scenario!.boot('boot-report', { dataDisks: [dataDisk] }));
  assert.is(boots[1].rc, 0);
});

onBoot(2, 'second boot: first-boot actions ran zero times (user-script, hostid, root_pw, data disk)', async (sc) => {
  const [first, second] = [(await sc.saved(1, 'boot-id')).trim(), (await sc.saved(2, 'boot-id')).trim()];
  assert.is.not(first, second);
  assert.is(await sc.saved(2, 'scripts-log'), `operator-script ${first} ${vm.uuid}\nuser-script ${first} ${vm.uuid}\noperator-script ${second} ${vm.uuid}\n`);
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

s.run();
