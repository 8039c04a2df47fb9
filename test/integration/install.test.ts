// sdc-guest install / uninstall with the real Linux executable, into prefix roots built from
// fixtures: a merged-/usr systemd Debian with the original tools' leftovers, a sysvinit Debian
// (both with Debian 12's glibc, so the executable goes in itself), a Red Hat 7 root and an empty
// one (no glibc there: the private runtime, lib/install/runtime.ts). systemctl and
// systemd-analyze are Debian's (package systemd).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOOT_TIMEOUT_SECONDS, RC_LINE, SCRIPTS_TIMEOUT_SECONDS } from '../../lib/install/boot-hook';
import { stageArchiveLinux } from '../support/archive-linux';
import { addGlibc } from '../support/guest-glibc';
import { TempDirs } from '../support/packer';
import { bundleCommand, linuxExecutableCommand, repoRoot, runTool } from '../support/run-tool';
import { assertOk, manifestOf, sdcGuest } from '../support/sdc-guest';
import { skipTest } from '../support/skip';
import { makeStubs } from '../support/stubs';
import { treeListing } from '../support/tree';

const temp = new TempDirs();
const EXECUTABLE = join(repoRoot, 'dist', 'linux-x64', 'sdc-guest');
const MAN_PAGES = ['sdc-guest.8', 'mdata-get.8', 'mdata-put.8', 'mdata-list.8', 'mdata-delete.8'];
const ORIGINAL_NAMES = ['mdata-get', 'set-root-authorized-keys', 'set-rootpassword', 'set-hostid', 'set-hostname', 'run-operator-script', 'get-user-data', 'run-user-script', 'send-arp-updates', 'format-secondary-disk', 'prepare-image'];
const OLD_MDATA_GET = Buffer.from('\x7fELF old 2014 mdata-get binary\n');
const DEBIAN_RC_LOCAL = '#!/bin/sh -e\n#\n# rc.local\n\necho local things\n\nexit 0\n';

function put(root: string, path: string, data: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), data);
  chmodSync(join(root, path), mode);
}

function link(root: string, path: string, target: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}

/** Debian 12 as a prefix: merged /usr, systemd with its units, the original tools' leftovers, an rc.local and another enabled service. */
function systemdRoot(): string {
  const root = temp.make('root-systemd');
  for (const dir of ['usr/lib', 'usr/bin', 'usr/sbin', 'etc', 'var/lib']) mkdirSync(join(root, dir), { recursive: true });
  link(root, 'lib', 'usr/lib');
  link(root, 'bin', 'usr/bin');
  link(root, 'sbin', 'usr/sbin');
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  copyFileSync('/usr/lib/systemd/systemd', join(root, 'usr/lib/systemd/systemd'));
  link(root, 'etc/systemd/system/multi-user.target.wants/ssh.service', '/lib/systemd/system/ssh.service');
  put(root, 'etc/rc.local', DEBIAN_RC_LOCAL, 0o755);
  put(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n');
  put(root, 'usr/sbin/mdata-get', OLD_MDATA_GET, 0o755);
  put(root, 'usr/lib/smartdc/set-hostname', '#!/bin/bash\nhostname $(/usr/sbin/mdata-get hostname)\n', 0o755);
  put(root, 'usr/lib/smartdc/lib_smartdc_scripts.cfg', 'lib_smartdc_info() { echo "$1"; }\n');
  put(root, 'usr/lib/smartdc/joyent_rc.local', '#!/bin/sh\n/lib/smartdc/set-hostname\n', 0o755);
  link(root, 'usr/lib/smartdc/mdata-get', '/usr/sbin/mdata-get');
  put(root, 'usr/share/man/man8/mdata-get.8', '.TH MDATA-GET 1 "old page"\n');
  addGlibc(root, true);
  return root;
}

/** Debian with sysvinit: no systemd, rc.local from the template. */
function sysvRoot(): string {
  const root = temp.make('root-sysv');
  for (const dir of ['usr/sbin', 'var/log']) mkdirSync(join(root, dir), { recursive: true });
  put(root, 'etc/debian_version', '12.5\n');
  put(root, 'etc/rc.local', DEBIAN_RC_LOCAL, 0o755);
  addGlibc(root, false);
  return root;
}

const install = (root: string, ...args: string[]) => sdcGuest(linuxExecutableCommand, ['install', '--root', root, ...args]);
const uninstall = (root: string, ...args: string[]) => sdcGuest(linuxExecutableCommand, ['uninstall', '--root', root, ...args]);

const modeOf = (path: string) => statSync(path).mode & 0o7777;

function needSystemd(): boolean {
  for (const command of ['systemctl', 'systemd-analyze']) {
    if (spawnSync(command, ['--version'], { timeout: 30_000 }).status !== 0) {
      skipTest(`${command} is missing (Debian package systemd, in test/packages-test.txt)`);
      return false;
    }
  }
  return true;
}

test.after(() => temp.removeAll());

test('install puts the real executable, its links, the man pages, the unit and the manifest into a prefix root', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  const r = await install(root);
  assertOk(r, 'install');
  assert.match(r.stderr, /original guest tools' boot scripts are here \(\/lib\/smartdc\/joyent_rc\.local\)/);

  const sdc = join(root, 'usr/sbin/sdc-guest');
  assert.ok(readFileSync(sdc).equals(readFileSync(EXECUTABLE)), 'the executable is a byte copy');
  assert.is(modeOf(sdc), 0o755);
  for (const tool of ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete']) assert.is(readlinkSync(join(root, 'usr/sbin', tool)), 'sdc-guest', tool);
  assert.not.ok(existsSync(join(root, 'usr/sbin/mdata-server')), 'no link to the host tool');

  // Merged /usr: /lib/smartdc is usr/lib/smartdc; one link per original name (the executable has them all).
  for (const name of ORIGINAL_NAMES) assert.is(readlinkSync(join(root, 'usr/lib/smartdc', name)), '/usr/sbin/sdc-guest', name);
  assert.ok(lstatSync(join(root, 'lib')).isSymbolicLink(), '/lib is still the merged-/usr link');
  assert.is(readFileSync(join(root, 'usr/lib/smartdc/lib_smartdc_scripts.cfg'), 'utf8'), 'lib_smartdc_info() { echo "$1"; }\n', 'files that are not ours stay');

  for (const page of MAN_PAGES) {
    const path = join(root, 'usr/share/man/man8', page);
    assert.ok(readFileSync(path).equals(readFileSync(join(repoRoot, 'docs/man', page))), page);
    assert.is(modeOf(path), 0o644, page);
  }

  const units: Array<[string, string[]]> = [
    ['sdc-guest.service', ['ExecStart=/usr/sbin/sdc-guest boot --scripts-later', `TimeoutStartSec=${BOOT_TIMEOUT_SECONDS}`, 'After=local-fs.target network.target', 'Before=network-online.target']],
    ['sdc-guest-scripts.service', ['ExecStart=/usr/sbin/sdc-guest boot-scripts', `TimeoutStartSec=${SCRIPTS_TIMEOUT_SECONDS}`, 'After=network-online.target sdc-guest.service', 'Wants=network-online.target']],
  ];
  for (const [name, lines] of units) {
    const unit = readFileSync(join(root, 'etc/systemd/system', name), 'utf8');
    assert.is(modeOf(join(root, 'etc/systemd/system', name)), 0o644);
    for (const line of ['Type=oneshot', 'RemainAfterExit=yes', 'WantedBy=multi-user.target', ...lines]) assert.ok(unit.split('\n').includes(line), `${name} has ${line}`);
  }
  assert.ok(BOOT_TIMEOUT_SECONDS > 60 + 10 * 65, 'longer than the metadata budget and the commands');
  assert.ok(SCRIPTS_TIMEOUT_SECONDS > 30 + 605 + 1805, 'longer than the network wait and both scripts');
  assert.is(readFileSync(join(root, 'etc/rc.local'), 'utf8'), DEBIAN_RC_LOCAL, 'with systemd, rc.local is left alone');

  const manifest = manifestOf(root);
  const entry = (path: string) => manifest.entries.find((e) => e.path === path);
  assert.equal(entry('/usr/sbin/sdc-guest'), { kind: 'file', path: '/usr/sbin/sdc-guest', previous: { type: 'none' } });
  assert.equal(entry('/lib/smartdc/mdata-get'), { kind: 'link', path: '/lib/smartdc/mdata-get', previous: { type: 'link', target: '/usr/sbin/mdata-get' } });
  const old = entry('/usr/sbin/mdata-get');
  assert.ok(old && old.kind === 'link' && old.previous.type === 'file', 'the old mdata-get binary is recorded');
  if (old?.kind === 'link' && old.previous.type === 'file') {
    assert.is(old.previous.backup, '/var/lib/sdc-guest/backup/usr/sbin/mdata-get');
    assert.is(old.previous.mode, 0o755);
    assert.ok(readFileSync(join(root, 'var/lib/sdc-guest/backup/usr/sbin/mdata-get')).equals(OLD_MDATA_GET), 'backup holds the old binary');
  }
  assert.ok(readFileSync(join(root, 'var/lib/sdc-guest/backup/lib/smartdc/set-hostname'), 'utf8').startsWith('#!/bin/bash'), 'the old script is backed up');
  for (const unit of ['sdc-guest.service', 'sdc-guest-scripts.service']) {
    assert.equal(entry(`/etc/systemd/system/multi-user.target.wants/${unit}`), { kind: 'enabled', path: `/etc/systemd/system/multi-user.target.wants/${unit}`, unit });
  }
  assert.ok(entry('/var/lib/sdc-guest')?.kind === 'dir', 'the folder it made is recorded');
  assert.not.ok(entry('/var/lib'), 'a folder that was there is not');

  // The copy works under its link names.
  const version = spawnSync(join(root, 'usr/sbin/mdata-get'), ['--version'], { encoding: 'utf8', timeout: 30_000 });
  assert.match(version.stdout, /^mdata-get \d+\.\d+\.\d+ \(/);
});

test('systemctl --root enable made the wants link, and is-enabled says enabled', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  assertOk(await install(root), 'install');
  for (const unit of ['sdc-guest.service', 'sdc-guest-scripts.service']) {
    assert.is(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants', unit)), `/etc/systemd/system/${unit}`);
    const enabled = spawnSync('systemctl', [`--root=${root}`, 'is-enabled', unit], { encoding: 'utf8', timeout: 30_000 });
    assert.is(enabled.stdout.trim(), 'enabled', enabled.stderr);
  }
  assert.is(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/ssh.service')), '/lib/systemd/system/ssh.service');
});

test('systemd-analyze verify accepts the unit in the installed root (and refuses it without the executable)', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  assertOk(await install(root), 'install');
  // The Documentation= man page is checked with man(1), which reads MANPATH: the installed page.
  const verify = (dir: string) =>
    spawnSync('systemd-analyze', [`--root=${dir}`, 'verify', 'sdc-guest.service', 'sdc-guest-scripts.service'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MANPATH: join(dir, 'usr/share/man') } });
  const good = verify(root);
  assert.is(good.status, 0, good.stderr);
  assert.is(good.stderr, '');
  rmSync(join(root, 'usr/sbin/sdc-guest'));
  const bad = verify(root);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /sdc-guest is not executable/);
});

test('install then uninstall gives back the tree exactly, old tools and rc.local included', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  const before = treeListing(root);
  assertOk(await install(root), 'install');
  assert.is.not(treeListing(root), before);
  const r = await uninstall(root);
  assertOk(r, 'uninstall');
  assert.match(r.stderr, /run: systemctl --root=\S+ disable sdc-guest\.service/);
  assert.match(r.stderr, /run: systemctl --root=\S+ disable sdc-guest-scripts\.service/);
  assert.fixture(treeListing(root), before);
});

test('a second install keeps the first backups and takes back what it no longer does; uninstall restores the original', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  put(root, 'usr/bin/cloud-init', '#!/usr/bin/python3\n', 0o755);
  const before = treeListing(root);
  assertOk(await install(root), 'first install');
  const first = manifestOf(root);
  const r = await install(root, '--disable-cloud-init');
  assertOk(r, 'upgrade');
  assert.ok(existsSync(join(root, 'etc/cloud/cloud-init.disabled')), 'cloud-init disabled');
  const second = manifestOf(root);
  assert.equal(second.entries.slice(0, first.entries.length), first.entries, 'earlier records kept as they were');
  assert.ok(readFileSync(join(root, 'var/lib/sdc-guest/backup/usr/sbin/mdata-get')).equals(OLD_MDATA_GET), 'the backup is still the original');
  assertOk(await install(root), 'third install, without --disable-cloud-init');
  assert.not.ok(existsSync(join(root, 'etc/cloud')), 'the cloud-init switch and its folder are taken back');
  assertOk(await uninstall(root), 'uninstall');
  assert.fixture(treeListing(root), before);
});

test('running the installed copy again changes nothing and keeps the man pages', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  assertOk(await install(root), 'install');
  const installed = treeListing(root).replace(/^var\/lib\/sdc-guest\/install\.json .*\n/m, '');
  const again = await runTool(() => ({ file: join(root, 'usr/sbin/sdc-guest'), args: [] }), 'sdc-guest', ['install', '--root', root], { killAfterMs: 120_000 });
  assertOk(again, 'install from the installed copy');
  assert.match(again.stderr, /man pages from \S+\/usr\/share\/man\/man8/);
  assert.fixture(treeListing(root).replace(/^var\/lib\/sdc-guest\/install\.json .*\n/m, ''), installed);
});

test('a re-install rewrites the executable only when its bytes or mode differ, same size included', async () => {
  const root = sysvRoot();
  assertOk(await install(root), 'install');
  const sdc = join(root, 'usr/sbin/sdc-guest');
  const inode = statSync(sdc).ino;
  assertOk(await install(root), 'install again');
  assert.is(statSync(sdc).ino, inode, 'an unchanged executable is left alone');

  // One byte changed in the last, partial chunk of the compare: the size alone does not tell.
  const changed = readFileSync(sdc);
  changed[changed.length - 1] ^= 0xff;
  writeFileSync(sdc, changed);
  const dry = await install(root, '--dry-run');
  assertOk(dry, 'install --dry-run');
  assert.match(dry.stdout.toString(), `would write /usr/sbin/sdc-guest mode 0755 (${changed.length} bytes, content not shown)`);
  assert.not.match(dry.stdout.toString(), 'would write /usr/share/man');
  assertOk(await install(root), 'install over the changed copy');
  assert.ok(readFileSync(sdc).equals(readFileSync(EXECUTABLE)), 'the executable is a byte copy again');

  chmodSync(sdc, 0o700);
  assertOk(await install(root), 'install over a changed mode');
  assert.is(modeOf(sdc), 0o755);
});

test('a step that fails mid-way is one line and exit 2, and uninstall takes back what was done', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  const before = treeListing(root);
  const stubs = makeStubs({ systemctl: { script: 'echo "Failed to enable unit: stub refuses" >&2', exit: 1 } }, temp.make('stubs'));
  const r = await runTool(linuxExecutableCommand, 'sdc-guest', ['install', '--root', root], { killAfterMs: 120_000, env: { PATH: `${stubs.path}:${process.env.PATH}` } });
  assert.is(r.code, 2);
  assert.match(r.stderr, /sdc-guest install: error: systemctl --root=\S+ enable sdc-guest\.service exited 1: Failed to enable unit: stub refuses\n/);
  const manifest = manifestOf(root);
  assert.ok(manifest.entries.some((e) => e.path === '/usr/sbin/sdc-guest'), 'the steps done are recorded');
  assertOk(await uninstall(root), 'uninstall');
  assert.fixture(treeListing(root), before);
});

test('--disable-cloud-init without cloud-init installed writes nothing and says so', async () => {
  const root = sysvRoot();
  const r = await install(root, '--disable-cloud-init');
  assertOk(r, 'install');
  assert.match(r.stderr, /cloud-init is not installed/);
  assert.not.ok(existsSync(join(root, 'etc/cloud')));
});

test('--disable-cloud-init finds a cloud-init installed by pip (/usr/local/bin), where boot looks for it', async () => {
  const root = sysvRoot();
  put(root, 'usr/local/bin/cloud-init', '#!/usr/bin/python3\n', 0o755);
  assertOk(await install(root, '--disable-cloud-init'), 'install');
  assert.ok(existsSync(join(root, 'etc/cloud/cloud-init.disabled')), 'cloud-init disabled');
});

test('without systemd: our line goes into rc.local before exit 0, once, and survives sh -e', async () => {
  const root = sysvRoot();
  const before = treeListing(root);
  assertOk(await install(root), 'install');
  const expected = DEBIAN_RC_LOCAL.replace('\nexit 0\n', `\n${RC_LINE}\nexit 0\n`);
  assert.is(readFileSync(join(root, 'etc/rc.local'), 'utf8'), expected);
  assert.not.ok(existsSync(join(root, 'etc/systemd')), 'no unit without systemd');
  assertOk(await install(root), 'second install');
  assert.is(readFileSync(join(root, 'etc/rc.local'), 'utf8'), expected, 'the line is added once');
  // /usr/sbin/sdc-guest does not exist on this host: the `|| true` keeps `sh -e` going to exit 0.
  const run = spawnSync('sh', ['-e', join(root, 'etc/rc.local')], { encoding: 'utf8', timeout: 30_000 });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, 'local things\n');
  assertOk(await uninstall(root), 'uninstall');
  assert.fixture(treeListing(root), before);
});

test('Red Hat: /etc/rc.d/rc.local gets the line and the execute bit; both come back as they were', async () => {
  const root = temp.make('root-rhel');
  put(root, 'etc/redhat-release', 'CentOS Linux release 7.9.2009 (Core)\n');
  put(root, 'etc/rc.d/rc.local', '#!/bin/bash\ntouch /var/lock/subsys/local\n', 0o644);
  link(root, 'etc/rc.local', 'rc.d/rc.local');
  const before = treeListing(root);
  assertOk(await install(root), 'install');
  assert.is(readFileSync(join(root, 'etc/rc.d/rc.local'), 'utf8'), `#!/bin/bash\ntouch /var/lock/subsys/local\n${RC_LINE}\n`);
  assert.is(modeOf(join(root, 'etc/rc.d/rc.local')), 0o744);
  assert.is(readlinkSync(join(root, 'etc/rc.local')), 'rc.d/rc.local');
  assertOk(await uninstall(root), 'uninstall');
  assert.fixture(treeListing(root), before);
});

test('an empty root gets a new executable rc.local with a shebang; uninstall removes it and every folder it made', async () => {
  const root = temp.make('root-empty');
  assertOk(await install(root), 'install');
  assert.is(readFileSync(join(root, 'etc/rc.local'), 'utf8'), `#!/bin/sh\n${RC_LINE}\n`);
  assert.is(modeOf(join(root, 'etc/rc.local')), 0o755);
  assertOk(await uninstall(root), 'uninstall');
  assert.is(treeListing(root), '\n');
});

test('an rc.local changed after install keeps the change: uninstall takes out only our line', async () => {
  const root = sysvRoot();
  assertOk(await install(root), 'install');
  const path = join(root, 'etc/rc.local');
  writeFileSync(path, readFileSync(path, 'utf8').replace('exit 0\n', 'echo added later\nexit 0\n'));
  const r = await uninstall(root);
  assertOk(r, 'uninstall');
  assert.match(r.stderr, /changed since install: only our line was taken out/);
  assert.is(readFileSync(path, 'utf8'), DEBIAN_RC_LOCAL.replace('exit 0\n', 'echo added later\nexit 0\n'));
  assert.is(modeOf(path), 0o755);
});

test('a dry run changes nothing, for install and for uninstall, and shows the plan', async () => {
  if (!needSystemd()) return;
  const root = systemdRoot();
  const before = treeListing(root);
  const dry = await install(root, '--dry-run');
  assertOk(dry, 'install --dry-run');
  assert.fixture(treeListing(root), before);
  const plan = dry.stdout.toString();
  assert.match(plan, `would write /usr/sbin/sdc-guest mode 0755 (${statSync(EXECUTABLE).size} bytes, content not shown)`);
  assert.match(plan, 'would link /usr/sbin/mdata-put -> sdc-guest');
  assert.match(plan, 'would link /lib/smartdc/set-hostname -> /usr/sbin/sdc-guest');
  assert.match(plan, 'would write /etc/systemd/system/sdc-guest.service mode 0644');
  assert.match(plan, '\n+Type=oneshot\n');
  assert.match(plan, `would run: systemctl --root=${root} enable sdc-guest.service`);
  assert.match(dry.stderr, /dry run: nothing changed/);

  const sysv = sysvRoot();
  const sysvBefore = treeListing(sysv);
  const sysvDry = await install(sysv, '--dry-run');
  assertOk(sysvDry, 'install --dry-run without systemd');
  assert.match(sysvDry.stdout.toString(), `+${RC_LINE}`);
  assert.fixture(treeListing(sysv), sysvBefore);

  assertOk(await install(root), 'install');
  const installed = treeListing(root);
  const dryUninstall = await uninstall(root, '--dry-run');
  assertOk(dryUninstall, 'uninstall --dry-run');
  assert.match(dryUninstall.stdout.toString(), 'would remove /usr/sbin/sdc-guest');
  assert.fixture(treeListing(root), installed);
});

test('from the node bundle: --executable is required, and with it the install works', async () => {
  const root = sysvRoot();
  const before = treeListing(root);
  const refused = await sdcGuest(bundleCommand, ['install', '--root', root]);
  assert.is(refused.code, 3);
  assert.match(refused.stderr, /not the standalone executable.*give --executable PATH/);
  assert.fixture(treeListing(root), before);
  const r = await sdcGuest(bundleCommand, ['install', '--root', root, '--executable', EXECUTABLE]);
  assertOk(r, 'install --executable');
  assert.ok(readFileSync(join(root, 'usr/sbin/sdc-guest')).equals(readFileSync(EXECUTABLE)));
  const missing = await sdcGuest(bundleCommand, ['install', '--root', root, '--executable', join(root, 'nonexistent')]);
  assert.is(missing.code, 3);
  assert.match(missing.stderr, /nonexistent is not a file/);
});

test('from the archive layout (build/layout.ts), the man pages beside the executable are installed', async () => {
  const unpacked = temp.make('archive');
  stageArchiveLinux(unpacked);
  const root = sysvRoot();
  const r = await runTool(() => ({ file: join(unpacked, 'linux/sdc-guest'), args: [] }), 'sdc-guest', ['install', '--root', root], { killAfterMs: 120_000 });
  assertOk(r, 'install');
  assert.match(r.stderr, `man pages from ${join(unpacked, 'linux/man/man8')}`);
  for (const page of MAN_PAGES) assert.ok(readFileSync(join(root, 'usr/share/man/man8', page)).equals(readFileSync(join(repoRoot, 'docs/man', page))), page);
});

test('a lone executable installs without man pages and says so', async () => {
  const alone = join(temp.make('alone'), 'sdc-guest');
  copyFileSync(EXECUTABLE, alone);
  chmodSync(alone, 0o755);
  const root = sysvRoot();
  const r = await runTool(() => ({ file: alone, args: [] }), 'sdc-guest', ['install', '--root', root], { killAfterMs: 120_000 });
  assertOk(r, 'install');
  assert.match(r.stderr, /no man pages beside .*: installed without them/);
  assert.ok(readFileSync(join(root, 'usr/sbin/sdc-guest')).equals(readFileSync(EXECUTABLE)));
  assert.not.ok(existsSync(join(root, 'usr/share/man')));
});

test('a folder where a link goes is refused before any change', async () => {
  const root = sysvRoot();
  mkdirSync(join(root, 'usr/sbin/mdata-put'));
  const before = treeListing(root);
  const r = await install(root);
  assert.is(r.code, 2);
  assert.match(r.stderr, /\/usr\/sbin\/mdata-put is a folder; nothing installed/);
  assert.fixture(treeListing(root), before);
});

test('a planted link where a man page goes is replaced, never written through', async () => {
  const root = sysvRoot();
  put(root, 'etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o640);
  link(root, 'usr/share/man/man8/sdc-guest.8', '/etc/shadow');
  const before = treeListing(root);
  assertOk(await install(root), 'install');
  assert.is(readFileSync(join(root, 'etc/shadow'), 'utf8'), 'root:*:19000:0:99999:7:::\n');
  assert.not.ok(lstatSync(join(root, 'usr/share/man/man8/sdc-guest.8')).isSymbolicLink());
  assertOk(await uninstall(root), 'uninstall');
  assert.fixture(treeListing(root), before);
});

test('uninstall: nothing recorded is exit 0; --purge also removes what boot wrote', async () => {
  const root = sysvRoot();
  const before = treeListing(root);
  const none = await uninstall(root);
  assertOk(none, 'uninstall without install');
  assert.match(none.stderr, /nothing to uninstall/);

  assertOk(await install(root), 'install');
  put(root, 'var/lib/sdc-guest/state.json', '{"instance":null,"actions":{}}\n');
  put(root, 'var/lib/sdc-guest/scripts/user-script', '#!/bin/sh\n', 0o700);
  put(root, 'var/log/sdc-guest.log', 'boot: ok\n');
  const kept = await uninstall(root);
  assertOk(kept, 'uninstall');
  assert.match(kept.stderr, /\/var\/lib\/sdc-guest kept: it holds 2 other file\(s\)/);
  assert.ok(existsSync(join(root, 'var/lib/sdc-guest/state.json')), 'state kept without --purge');

  const purgeRoot = sysvRoot();
  assertOk(await install(purgeRoot), 'install');
  put(purgeRoot, 'var/lib/sdc-guest/state.json', '{"instance":null,"actions":{}}\n');
  put(purgeRoot, 'var/lib/sdc-guest/scripts/user-script', '#!/bin/sh\n', 0o700);
  put(purgeRoot, 'var/log/sdc-guest.log', 'boot: ok\n');
  assertOk(await uninstall(purgeRoot, '--purge'), 'uninstall --purge');
  assert.fixture(treeListing(purgeRoot), before);
});

test.run();
