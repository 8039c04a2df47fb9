// The Linux tools in a guest with no C library at all: a chroot with only Debian's static busybox
// and what the installer laid out (the launcher and the private glibc runtime). The protocol
// scenarios and `sdc-guest boot --dry-run` run there over a unix socket and over a pty bridged
// to an mdata-server outside.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readElfDynamic } from '../../lib/install/elf';
import { ChrootGuest, chrootUnavailable } from '../support/chroot-guest';
import { MetadataHost } from '../support/metadata-host';
import { runTool, type ToolResult } from '../support/run-tool';
import { scenarioSuite } from '../support/scenarios';
import { skipTest } from '../support/skip';

const unavailable = chrootUnavailable();
if (unavailable) {
  test('the tools in a chroot without a C library', () => skipTest(unavailable));
  test.run();
} else {
  let guest: ChrootGuest | undefined;
  const started = (): ChrootGuest => {
    if (!guest) throw new Error('the chroot guest did not start');
    return guest;
  };

  const setup = suite('a chroot without a C library: what the installer laid out');
  setup.before(async () => {
    guest = new ChrootGuest();
    await guest.start();
    // The metadata hosts' sockets and pty links land where the guest sees them at the same path.
    process.env.TMPDIR = guest.share;
  });

  /** Every file under the chroot (links followed), relative; the mount points are empty folders out here. */
  const filesInGuest = (rel = ''): string[] =>
    readdirSync(join(started().dir, rel)).flatMap((name) => {
      const path = join(rel, name);
      const st = statSync(join(started().dir, path), { throwIfNoEntry: false });
      return st?.isDirectory() ? filesInGuest(path) : st?.isFile() ? [path] : [];
    });

  setup('sdc-guest install, run inside from the archive, chose the private runtime: the guest has no glibc', () => {
    const said = started().installed!.stderr;
    assert.match(said, /\/usr\/sbin\/sdc-guest: a link to the launcher in \/usr\/lib\/sdc-guest, with \S+\/runtime\/sdc-guest and the private glibc \(the guest has no glibc \(no \/lib64\/ld-linux-x86-64\.so\.2\): the private glibc runtime\)/);
    assert.match(said, /man pages from \S+\/linux\/man\/man8/);
  });

  setup('no C library in the chroot but the private runtime; busybox is static', () => {
    const dir = started().dir;
    const files = filesInGuest();
    const isRuntime = (path: string) => /^usr\/lib\/sdc-guest\/runtime(-[0-9a-f]{16})?\//.test(path);
    const libraries = files.filter((f) => /(^|\/)(ld-linux|ld-musl|libc\.so|libc\.musl)/.test(f));
    assert.ok(libraries.length > 0 && libraries.every(isRuntime), `C libraries outside the private runtime: ${libraries.filter((f) => !isRuntime(f))}`);
    const dynamic = files.filter((f) => {
      try {
        const elf = readElfDynamic(join(dir, f));
        return elf.interpreter !== null || elf.needed.length > 0;
      } catch {
        return false;
      }
    });
    assert.ok(dynamic.every(isRuntime), `dynamically linked outside the runtime: ${dynamic.filter((f) => !isRuntime(f))}`);
    const busybox = readElfDynamic(join(dir, 'bin', 'busybox'));
    assert.equal([busybox.interpreter, busybox.needed], [null, []]);
    for (const file of ['usr/lib/sdc-guest/sdc-guest', 'usr/sbin/mdata-get', 'usr/share/man/man8/sdc-guest.8', 'var/lib/sdc-guest/install.json']) {
      assert.ok(files.includes(file), `${file} installed; files: ${files.join(' ')}`);
    }
  });

  setup('the executable alone cannot start there: the guest has no loader for it', async () => {
    const { file, args } = started().inside('/usr/lib/sdc-guest/runtime/sdc-guest');
    const r = await runTool(() => ({ file, args }), 'sdc-guest', ['--version']);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, /No such file or directory/);
    const launched = await runTool(started().command, 'sdc-guest', ['--version']);
    assert.is(launched.code, 0, launched.stderr);
    assert.match(launched.stdout.toString(), /^sdc-guest \d+\.\d+\.\d+ \([0-9a-f]+\)\n$/);
  });
  setup('the launcher finds its runtime by /proc/self/exe, or without /proc by the path it was started by', async () => {
    const byName = ['-c', 'PATH=/usr/sbin exec mdata-get --help'];
    const inNamespace = await runTool(() => started().inside('/bin/sh'), 'sh', byName);
    assert.is(inNamespace.code, 0, inNamespace.stderr);
    assert.match(inNamespace.stdout.toString(), /^Usage: mdata-get /);
    // A plain chroot, outside the namespace: no /proc in it.
    const plain = (args: string[]) => runTool(() => ({ file: 'chroot', args: [started().dir, ...args] }), 'chroot', []);
    const byPath = await plain(['/usr/sbin/mdata-get', '--help']);
    assert.is(byPath.code, 0, byPath.stderr);
    assert.match(byPath.stdout.toString(), /^Usage: mdata-get /);
    const lost = await plain(['/bin/sh', ...byName]);
    assert.is(lost.code, 127);
    assert.is(lost.stderr, 'sdc-guest: cannot find the folder it is in: mount /proc, or start it by its path\n');
  });
  setup.run();

  const inGuest = (tool: string) => started().command(tool);
  scenarioSuite('a chroot without a C library, over a unix socket', inGuest, false);
  scenarioSuite('a chroot without a C library, over a pty', inGuest, true);

  const boot = suite('a chroot without a C library: sdc-guest boot --dry-run');
  const fixtures = join(__dirname, '..', 'fixtures');
  let host: MetadataHost | undefined;
  const dryRuns: Record<string, ToolResult> = {};
  boot.before(async () => {
    host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
    for (const pty of [false, true]) dryRuns[pty ? 'pty' : 'socket'] = await runTool(started().command, 'sdc-guest', ['boot', '--dry-run'], { env: host.env(pty), killAfterMs: 120_000 });
  });
  boot.after(async () => {
    await host?.close();
  });

  for (const how of ['socket', 'pty']) {
    boot(`over a ${how}: the plan from the metadata, every action reported, nothing written`, () => {
      const r = dryRuns[how];
      // The chroot has no NIC with the metadata's MAC and no /etc/shadow: those two fail, as they should.
      assert.is(r.code, 2, r.stderr);
      assert.match(r.stderr, /^sdc-guest boot: 6 ok, 2 failed \(configure-network, set-rootpassword\), 2 skipped$/m);
      assert.match(r.stderr, /^sdc-guest set-hostid: ok: hostid 7b7b0c3e$/m, 'sdc:uuid came over the transport');
      const plan = r.stdout.toString();
      assert.match(plan, /^\+\+\+ \/etc\/hostname\n@@ -0,0 \+1,1 @@\n\+scenario$/m);
      assert.match(plan, /^\+ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host$/m);
      for (const path of ['etc/hostname', 'etc/hostid', 'root/.ssh']) assert.not.ok(existsSync(join(started().dir, path)), `${path} written in a dry run`);
    });
  }

  boot('the same plan over either transport', () => {
    assert.ok(dryRuns.socket.stdout.length > 0);
    assert.is(dryRuns.pty.stdout.toString(), dryRuns.socket.stdout.toString());
  });
  boot.run();

  const uninstall = suite('a chroot without a C library: sdc-guest uninstall');
  uninstall('takes back everything install put there: busybox is all that is left', async () => {
    const r = await runTool(started().command, 'sdc-guest', ['uninstall'], { killAfterMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
    assert.equal(filesInGuest().sort(), ['bin/busybox', 'bin/sh']);
  });
  uninstall.run();

  const teardown = suite('a chroot without a C library: teardown');
  teardown.after(async () => {
    await guest?.close();
  });
  teardown.run();
}
