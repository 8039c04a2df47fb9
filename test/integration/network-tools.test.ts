import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NetworkPlan } from '../../lib/network/links';
import { loadCases, planOf, renderOutput, type NetworkCase } from '../support/network-cases';
import { readKeyfiles, readNetworkd, viewOfPlan } from '../support/network-readers';
import { DUMP, expectedState, inNetns, kernelState, netnsAvailable, vethLines } from '../support/netns';
import { skipTest } from '../support/skip';

// Our output read by the real tools (Debian packages netplan.io, ifupdown, network-manager,
// systemd), and applied for real in private network namespaces by ifupdown and systemd-networkd.

let tmp = '';
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'network-tools-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000, killSignal: 'SIGKILL' });
const have = (cmd: string) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;

function needs(...cmds: string[]): boolean {
  const missing = cmds.filter((c) => !have(c));
  if (missing.length > 0) skipTest(`not installed: ${missing.join(', ')} (make test-packages)`);
  return missing.length === 0;
}

/** Writes rendered files under a new root; returns it. */
function lay(name: string, files: { path: string; content: string; mode: number }[]): string {
  const root = join(tmp, name);
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content, { mode: f.mode });
  }
  return root;
}

const cases = loadCases();
const netnsProblem = netnsAvailable();

for (const c of cases) {
  const { plan } = planOf(c);

  test(`${c.name}: netplan generate turns our YAML into networkd files with the same meaning`, () => {
    if (!needs('netplan')) return;
    const root = lay(`netplan-${c.name}`, renderOutput('netplan', plan));
    const r = run('netplan', ['generate', '--root-dir', root]);
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stderr, /warning|error/i, r.stderr);
    const dir = join(root, 'run/systemd/network');
    const generated = readdirSync(dir).filter((n) => n.endsWith('.network')).map((n) => readFileSync(join(dir, n), 'utf8'));
    const view = readNetworkd(generated);
    assert.equal(view.nics, viewOfPlan(plan, true));
    // netplan keeps IPv4 and IPv6 resolvers apart and writes the IPv4 ones first.
    const v4First = (d: typeof plan.dns) => d && { ...d, servers: [...d.servers.filter((x) => !x.includes(':')), ...d.servers.filter((x) => x.includes(':'))] };
    assert.equal(view.dns, v4First(plan.dns));
  });

  test(`${c.name}: ifup --no-act accepts every ifupdown file`, () => {
    if (!needs('ifup')) return;
    for (const f of renderOutput('ifupdown', plan)) {
      const path = join(tmp, `ifupdown-${c.name}-${basename(f.path)}`);
      writeFileSync(path, f.content);
      const state = mkdtempSync(join(tmp, 'ifstate-'));
      const r = run('ifup', ['--no-act', '--no-scripts', '--state-dir', state, '-i', path, f.interface!]);
      assert.is(r.status, 0, `${f.path}: ${r.stderr}`);
      // --no-act prints the commands it would run on stderr.
      const nic = plan.interfaces.find((n) => n.name === f.interface)!;
      for (const a of nic.addresses.filter((x) => x.family === 6)) assert.match(r.stderr, `ip -6 addr add ${a.address}/${a.prefix}`);
      for (const r4 of nic.routes.filter((x) => x.via === null)) assert.match(r.stderr, `ip route add ${r4.dst.address}/${r4.dst.prefix} dev ${nic.name} scope link`);
    }
  });

  test(`${c.name}: nmcli --offline loads every keyfile, and it reads back the same`, () => {
    if (!needs('nmcli')) return;
    const normalised = renderOutput('networkmanager', plan).map((f) => {
      const r = run('nmcli', ['--offline', 'connection', 'modify', 'connection.autoconnect', 'yes'], f.content);
      assert.is(r.status, 0, `${f.path}: ${r.stderr}`);
      return r.stdout;
    });
    assert.equal(readKeyfiles(normalised), readKeyfiles(renderOutput('networkmanager', plan).map((f) => f.content)));
  });
}

test('nmcli --offline refuses a broken keyfile (the check can fail)', () => {
  if (!needs('nmcli')) return;
  const r = run('nmcli', ['--offline', 'connection', 'modify', 'connection.autoconnect', 'yes'], '[connection]\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\n');
  assert.is.not(r.status, 0);
});

/** Interfaces a namespace can configure without a DHCP server. */
const staticNames = (plan: NetworkPlan) => plan.interfaces.filter((n) => !n.dhcp4).map((n) => n.name);

function applyCase(c: NetworkCase, names: string[], lines: string[]): { actual: ReturnType<typeof kernelState>; expected: ReturnType<typeof expectedState> } {
  const output = inNetns([...vethLines(c.links), 'ip link set lo up', ...lines, ...DUMP].join('\n'));
  return { actual: kernelState(output, names), expected: expectedState(planOf(c).plan, names) };
}

for (const c of cases) {
  const { plan } = planOf(c);
  const names = staticNames(plan);
  if (names.length === 0) continue;

  test(`${c.name}: ifup with our ifupdown files gives exactly the fixture's addresses, routes and MTU`, () => {
    if (netnsProblem) return skipTest(netnsProblem);
    if (!needs('ifup')) return;
    const files = renderOutput('ifupdown', plan).filter((f) => names.includes(f.interface!));
    const dir = lay(`ifup-${c.name}`, files);
    const state = join(tmp, `ifup-${c.name}-state`);
    mkdirSync(state, { recursive: true });
    const ups = files.map((f) => `ifup --no-scripts --state-dir ${state} -i ${join(dir, f.path)} ${f.interface}`);
    const { actual, expected } = applyCase(c, names, ups);
    assert.equal(actual, expected);
  });

  test(`${c.name}: systemd-networkd with our .network files gives exactly the fixture's addresses, routes and MTU`, () => {
    if (netnsProblem) return skipTest(netnsProblem);
    if (!needs('/lib/systemd/systemd-networkd')) return;
    const dir = lay(`networkd-${c.name}`, renderOutput('networkd', plan));
    const configured = names.map((n) => `[ -n "$(grep -l 'ADMIN_STATE=configured' /run/systemd/netif/links/* 2>/dev/null | xargs -r grep -l 'NETWORK_FILE=.*10-sdc-${n}.network')" ]`).join(' && ');
    const { actual, expected } = applyCase(c, names, [
      // udev is not running here: a read-only /sys tells networkd not to wait for it.
      'mount -t sysfs -o ro sysfs /sys',
      'mount -t tmpfs tmpfs /run',
      'mkdir -p /run/systemd/netif && chown systemd-network: /run/systemd/netif',
      `mount --bind ${join(dir, 'etc/systemd/network')} /etc/systemd/network`,
      '/lib/systemd/systemd-networkd 2>/run/networkd.log &',
      `i=0; until ${configured}; do i=$((i+1)); [ $i -lt 150 ] || { cat /run/networkd.log >&2; exit 1; }; sleep 0.1; done`,
    ]);
    assert.equal(actual, expected);
  });
}

test.run();
