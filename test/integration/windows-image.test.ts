// Image preparation on Windows (sdc-guest.exe prepare-image) against a prefix root with recording
// stubs of powershell.exe, shutdown.exe and sysprep.exe; and every answer file we ship read by
// xmllint.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerFiles } from '../../build/answer-files';
import type { ActionOptions } from '../../lib/guest/action';
import { ONE_TIME_PASSWORD } from '../../lib/guest/windows/prepare-image';
import { WINDOWS_SYSTEM } from '../../lib/guest/windows/system';
import { testContext } from '../support/guest-context';
import { repoRoot } from '../support/run-tool';
import { skipTest } from '../support/skip';
import { treeListing } from '../support/tree';
import { makeStubs, type Stubs } from '../support/stubs';
import { PS, WindowsGuest } from '../support/windows-guest';

const scratch = mkdtempSync(join(tmpdir(), 'windows-image-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const READY = { task: true, oldTasks: [], rebootPending: false, imageState: 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE' };
const ANSWER = answerFiles()['windows/sysprep/unattend.xml'];
const OWN_STATE = ['C:\\smartdc\\state\\state.json', 'C:\\smartdc\\logs\\sdc-guest.log', 'C:\\smartdc\\scripts\\configure-network.ps1', 'C:\\smartdc\\user-script.ps1', 'C:\\smartdc\\operator-script.ps1', 'C:\\smartdc\\user-data', 'C:\\smartdc\\tmp\\JoyentTask.xml', 'C:\\smartdc\\prepare-image.ps1'];
const KEPT = ['C:\\smartdc\\bin\\sdc-guest.exe', 'C:\\smartdc\\sysprep\\sysprep.bat', 'C:\\smartdc\\sysprep\\unattend.xml', 'C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd', 'C:\\Users\\Administrator\\notes.txt'];

interface Prepared {
  guest: WindowsGuest;
  sysprep: Stubs;
  run(options?: ActionOptions, dryRun?: boolean, imgadm?: { put(k: string, v: string): Promise<void>; close(): Promise<void> } | null): Promise<{ code: number; lines: string[]; printed: string }>;
}

function prepared(readiness: object = READY, sysprepScript = ''): Prepared {
  const guest = new WindowsGuest(scratch);
  guest.answer('image readiness', readiness);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(guest.host(path)), { recursive: true });
    writeFileSync(guest.host(path), text);
  };
  for (const path of [...OWN_STATE, ...KEPT]) write(path, `${path}\n`);
  write('C:\\smartdc\\sysprep\\unattend.xml', ANSWER);
  write('C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd', readFileSync(join(repoRoot, 'windows', 'SetupComplete.cmd'), 'utf8'));
  const sysprepDir = dirname(guest.host('C:\\Windows\\System32\\Sysprep\\sysprep.exe'));
  mkdirSync(sysprepDir, { recursive: true });
  // sysprep keeps what it was given, as Windows keeps it in Panther.
  const sysprep = makeStubs({ 'sysprep.exe': { script: `cp "\${4#/unattend:}" '${sysprepDir}/given.xml'\n${sysprepScript}` } }, sysprepDir);
  return {
    guest,
    sysprep,
    async run(options = {}, dryRun = false, imgadm = null) {
      const ctx = testContext(guest.root, {}, { path: guest.stubs.path, dryRun });
      const code = await WINDOWS_SYSTEM.imagePreparation.run(ctx, options, imgadm);
      return { code, lines: ctx.lines, printed: ctx.printed.join('') };
    },
  };
}

const filled = 'C:\\smartdc\\sysprep\\unattend.filled.xml';

test('prepare-image: our state goes, the boot task is disabled, sysprep gets a filled copy that is then removed, the VM powers off', async () => {
  const p = prepared();
  const { code, lines } = await p.run();
  assert.is(code, 0, lines.join('\n'));
  for (const path of OWN_STATE) assert.is(p.guest.read(path), null, `${path} removed`);
  for (const path of KEPT) assert.ok(p.guest.read(path), `${path} kept`);
  assert.is(p.guest.read('C:\\smartdc\\scripts'), null, 'our scripts folder too, with the script that disabled the task');
  assert.equal(p.guest.calls(), [
    `${PS} -EncodedCommand <query: image readiness>`,
    `${PS} -File /C/smartdc/scripts/prepare-image.ps1`,
    `${PS} -EncodedCommand <query: image readiness>`,
    'shutdown.exe /s /t 0 /d p:4:1 /c sdc-guest: prepare-image',
  ]);
  assert.match(p.guest.scriptsRun()[0], "Disable-ScheduledTask -TaskName 'sdc-guest-boot' | Out-Null\n");
  assert.equal(p.sysprep.calls().map((c) => c.split(p.guest.root).join('')), ['sysprep.exe /generalize /oobe /quit /unattend:/C/smartdc/sysprep/unattend.filled.xml']);
  const given = readFileSync(join(dirname(p.guest.host('C:\\Windows\\System32\\Sysprep\\sysprep.exe')), 'given.xml'), 'utf8');
  const password = /<Value>([^<]*)<\/Value>/.exec(given)?.[1] ?? '';
  assert.is(password.length, 24);
  assert.is(given, ANSWER.replace(`<Value>${ONE_TIME_PASSWORD}</Value>`, `<Value>${password}</Value>`), 'only the placeholder changed');
  assert.is(p.guest.read(filled), null, 'the filled copy is gone');
  assert.is(p.guest.read('C:\\smartdc\\sysprep\\unattend.xml')?.toString('utf8'), ANSWER);
  assert.not.ok(lines.join('\n').includes(password), 'the one-time password is not logged');
});

test('prepare-image --dry-run: lists what would go and what would run, changes nothing', async () => {
  const p = prepared();
  const before = treeListing(p.guest.root, { withDir: true });
  const { code, lines, printed } = await p.run({}, true);
  assert.is(code, 0, lines.join('\n'));
  assert.fixture(treeListing(p.guest.root, { withDir: true }), before);
  assert.equal(p.guest.calls(), [`${PS} -EncodedCommand <query: image readiness>`]);
  assert.equal(p.sysprep.calls(), []);
  assert.ok(lines.includes('info: would remove C:\\smartdc\\user-data (sdc-guest state)'));
  assert.match(printed, `would write ${filled} (`);
  assert.match(printed, `would run: ${p.guest.root}/C/Windows/System32/Sysprep/sysprep.exe /generalize /oobe /quit /unattend:${p.guest.root}/C/smartdc/sysprep/unattend.filled.xml\n`);
  assert.match(printed, "would run: shutdown.exe /s /t 0 /d p:4:1 /c 'sdc-guest: prepare-image'\n");
});

test('prepare-image refuses, changing nothing: a placeholder left in the answer file, a pending reboot', async () => {
  const sample = 'windows/sysprep/autounattend/server-2022-uefi/Autounattend.xml';
  const p = prepared();
  writeFileSync(p.guest.host('C:\\smartdc\\sysprep\\sample.xml'), answerFiles()[sample]);
  const before = treeListing(p.guest.root, { withDir: true });
  const placeholder = await p.run({ '--unattend': 'C:\\smartdc\\sysprep\\sample.xml' });
  assert.is(placeholder.code, 2);
  assert.ok(placeholder.lines.includes('error: the answer file C:\\smartdc\\sysprep\\sample.xml still holds the placeholder REPLACE-WITH-YOUR-PRODUCT-KEY: fill it in or remove that element'));
  assert.fixture(treeListing(p.guest.root, { withDir: true }), before);

  const pending = prepared({ ...READY, rebootPending: true });
  const r = await pending.run();
  assert.is(r.code, 2);
  assert.match(r.lines.join('\n'), 'error: a reboot is pending (Windows Update or an installation): sysprep would fail');
  assert.ok(pending.guest.read('C:\\smartdc\\user-data'), 'nothing cleaned');
  assert.equal(pending.guest.calls(), [`${PS} -EncodedCommand <query: image readiness>`]);
});

test('prepare-image warnings: no boot task, an old Joyent task, a SetupComplete.cmd not ours; --strict stops before any change', async () => {
  const p = prepared({ ...READY, task: false, oldTasks: 'JoyentTask' });
  writeFileSync(p.guest.host('C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd'), 'C:\\smartdc\\bin\\setup.bat\r\n');
  const before = treeListing(p.guest.root, { withDir: true });
  const strict = await p.run({ '--strict': true });
  assert.is(strict.code, 1);
  assert.equal(strict.lines.filter((l) => l.startsWith('warn: ')), [
    'warn: the boot task sdc-guest-boot is not registered (run install.bat): instances of this image would not configure themselves',
    'warn: the old guest tools\' task "JoyentTask" is registered: remove it (schtasks /Delete /TN "JoyentTask"), it runs old scripts and may hold the Administrator password',
    'warn: C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd is not ours: the boot task would stay disabled on new instances (run install.bat)',
  ]);
  assert.fixture(treeListing(p.guest.root, { withDir: true }), before);
  assert.is((await p.run({ '--no-sysprep': true })).code, 0, 'without --strict the warnings do not stop it');
  assert.is(p.guest.read('C:\\smartdc\\user-data'), null);
  assert.equal(p.sysprep.calls(), [], 'no sysprep with --no-sysprep');
  assert.not.match(p.guest.calls().join('\n'), 'shutdown.exe', 'and no power-off');
});

test('prepare-image --imgadm: running, then success, then power off; a sysprep failure reports error with its reason', async () => {
  const puts: string[] = [];
  const reporter = { put: async (k: string, v: string) => void puts.push(`${k}=${v}`), close: async () => void puts.push('closed') };
  const ok = prepared();
  assert.is((await ok.run({}, false, reporter)).code, 0);
  assert.equal(puts, ['prepare-image:state=running', 'prepare-image:state=success', 'closed']);
  assert.match(ok.guest.calls().join('\n'), 'shutdown.exe /s ');

  puts.length = 0;
  const failing = prepared(READY, `echo "Error [0x0f0082] SYSPRP ActionPlatform::LaunchModule: failure occurred" >&2; exit 31`);
  assert.is((await failing.run({}, false, reporter)).code, 2);
  assert.equal(puts, ['prepare-image:state=running', 'prepare-image:error=sysprep exited 31: Error [0x0f0082] SYSPRP ActionPlatform::LaunchModule: failure occurred (see C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log)', 'prepare-image:state=error', 'closed']);
  assert.match(failing.guest.calls().join('\n'), 'shutdown.exe /s ', 'imgadm waits for the power-off either way');
  assert.is(failing.guest.read(filled), null, 'the filled copy is removed after a failure too');
});

test('prepare-image: sysprep exiting 0 without generalizing is a failure, with the last line of setuperr.log', async () => {
  const p = prepared({ ...READY, imageState: 'IMAGE_STATE_COMPLETE' });
  const panther = p.guest.host('C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log');
  mkdirSync(dirname(panther), { recursive: true });
  writeFileSync(panther, 'first\r\nSYSPRP Package Microsoft.App was installed for a user, but not provisioned for all users.\r\n');
  const { code, lines } = await p.run();
  assert.is(code, 2);
  assert.ok(lines.includes('error: sysprep exited 0 but the image state is IMAGE_STATE_COMPLETE, not IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE: SYSPRP Package Microsoft.App was installed for a user, but not provisioned for all users. (see C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log)'), lines.join('\n'));
  assert.not.match(p.guest.calls().join('\n'), 'shutdown.exe', 'no power-off after a failure');
});

test('every answer file we ship is well-formed XML (xmllint --noout)', () => {
  const xmllint = (args: string[]) => spawnSync('xmllint', args, { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  const version = xmllint(['--version']);
  if ((version.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return skipTest('xmllint is not installed (libxml2-utils; make test-packages)');
  assert.is(version.error, undefined, 'xmllint --version ran (30 s at most)');
  const files = Object.keys(answerFiles()).map((path) => join(repoRoot, path));
  assert.is(files.length, 13);
  for (const file of files) {
    assert.ok(existsSync(file), file);
    const r = xmllint(['--noout', file]);
    assert.is(r.error, undefined, `${file}: xmllint ran (30 s at most)`);
    assert.is(r.status, 0, `${file}: ${r.stderr}`);
  }
  const broken = join(scratch, 'broken.xml');
  writeFileSync(broken, ANSWER.replace('</unattend>', ''));
  const r = xmllint(['--noout', broken]);
  assert.is(r.error, undefined, 'xmllint ran on the broken one (30 s at most)');
  assert.is.not(r.status, 0, 'xmllint finds a broken one');
});

test.run();
