// The Windows side's pure parts: guest paths under a prefix root, computer names, PowerShell
// quoting (checked by the PowerShell grammar), the drive letter rule, the data disk choice, the
// one-time password, and the answer files (as generated, placeholders only).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerFiles, PRODUCT_KEY, TEMPORARY_PASSWORD } from '../../build/answer-files';
import { GuestFiles, guestDirname, hostPath, resolveInRoot } from '../../lib/guest/files';
import { dataDiskOf, firstFreeLetter, type WindowsDisk } from '../../lib/guest/windows/format-secondary-disk';
import { computerName } from '../../lib/guest/windows/hostname';
import { ps1Bytes } from '../../lib/guest/windows/powershell';
import { ONE_TIME_PASSWORD, oneTimePassword } from '../../lib/guest/windows/prepare-image';
import { platform } from '../../lib/platform';
import { psQuote } from '../../lib/powershell-text';
import { syntaxErrors } from '../support/powershell-syntax';
import { repoRoot } from '../support/run-tool';

const scratch = mkdtempSync(join(tmpdir(), 'windows-pure-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('Windows guest paths live under the root: C:\\ is <root>/C, devices under <root>/dev, either slash', () => {
  assert.is(hostPath('/r', 'C:\\smartdc\\state\\state.json'), '/r/C/smartdc/state/state.json');
  assert.is(hostPath('/r', 'c:/smartdc/user-data'), '/r/C/smartdc/user-data');
  assert.is(hostPath('/r', '\\\\.\\PhysicalDrive1'), '/r/dev/PhysicalDrive1');
  assert.is(hostPath('/r', '/etc/hosts'), '/r/etc/hosts');
  assert.is(guestDirname('C:\\smartdc\\state\\state.json'), 'C:\\smartdc\\state');
  assert.is(guestDirname('/var/lib/sdc-guest/state.json'), '/var/lib/sdc-guest');
  assert.throws(() => hostPath('/r', 'smartdc\\x'), /not an absolute guest path/);
});

test('Windows paths resolve inside the root: .. stops at the drive, links restart at their drive', async () => {
  const root = mkdtempSync(join(scratch, 'root-'));
  assert.is(await resolveInRoot(root, 'C:\\..\\..\\Windows\\x'), join(root, 'C/Windows/x'));
  mkdirSync(join(root, 'C/smartdc'), { recursive: true });
  symlinkSync('D:\\elsewhere', join(root, 'C/smartdc/link'));
  assert.is(await resolveInRoot(root, 'C:\\smartdc\\link\\file'), join(root, 'D/elsewhere/file'));
  symlinkSync('..\\..\\..\\..\\escape', join(root, 'C/smartdc/up'));
  assert.is(await resolveInRoot(root, 'C:\\smartdc\\up'), join(root, 'C/escape'));
});

test('Windows files: written atomically without POSIX modes; a dry run shows the Windows path and no mode', async () => {
  const root = mkdtempSync(join(scratch, 'root-'));
  const printed: string[] = [];
  const log = { info() {}, warn() {}, error() {} };
  const files = new GuestFiles({ root, dryRun: false, log, print: (t) => printed.push(t) });
  await files.mkdir('C:\\smartdc\\state', 0o700);
  assert.is(statSync(join(root, 'C/smartdc/state')).mode & 0o777, 0o777 & ~process.umask(), 'no chmod to 0700 for a Windows path');
  assert.ok(await files.write('C:\\smartdc\\state\\x.txt', 'one\n', { mode: 0o600 }));
  assert.is(statSync(join(root, 'C/smartdc/state/x.txt')).mode & 0o777, 0o644, 'no mode for a Windows path');
  assert.not.ok(await files.write('C:\\smartdc\\state\\x.txt', 'one\n', { mode: 0o600 }), 'unchanged: no write');
  const dry = new GuestFiles({ root, dryRun: true, log, print: (t) => printed.push(t) });
  await dry.mkdir('C:\\smartdc\\logs', 0o755);
  await dry.write('C:\\smartdc\\state\\x.txt', ps1Bytes('two\n'));
  assert.equal(printed, ['would create C:\\smartdc\\logs\\\n', 'would write C:\\smartdc\\state\\x.txt\n--- C:\\smartdc\\state\\x.txt\n+++ C:\\smartdc\\state\\x.txt\n@@ -1,1 +1,1 @@\n-one\n+two\n']);
  assert.not.ok(existsSync(join(root, 'C/smartdc/logs')));
});

test('.ps1 files are UTF-8 with one BOM', () => {
  assert.equal([...ps1Bytes('é').subarray(0, 5)], [0xef, 0xbb, 0xbf, 0xc3, 0xa9]);
  assert.equal(ps1Bytes('\ufeffx'), ps1Bytes('x'));
});

test('computer names: the first label, 15 characters at most without a trailing hyphen, never all digits', () => {
  assert.is(computerName('web01.example.com'), 'web01');
  assert.is(computerName('  DB-Primary  '), 'DB-Primary');
  assert.is(computerName('7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f'), '7b7b0c3e-5b6a-4');
  assert.is(computerName('abcdefghijklmn-xyz'), 'abcdefghijklmn');
  for (const bad of ['', 'bad_name', '-lead', 'trail-', '12345', '123456789012345-x', 'a'.repeat(64), 'sp ace']) assert.is(computerName(bad), null, bad);
});

test('PowerShell quoting: any text is one literal string, as the grammar reads it', async () => {
  for (const text of ["it's", 'a \u2018curly\u2019 one', '$(Remove-Item C:\\ -Recurse)', 'say "hi"', 'back`tick', 'line\nbreak', '%PATH% ^ & !', 'ünïcödé']) {
    const script = `Write-Output ${psQuote(text)}\n`;
    assert.equal(await syntaxErrors(script), [], text);
    assert.ok(psQuote(text).startsWith("'") && psQuote(text).endsWith("'"));
    // Unquoting by PowerShell's rule (a doubled quote is one) gives the text back.
    assert.is(psQuote(text).slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1'), text);
  }
});

test('drive letters: the first free one from D:, whatever holds the others', () => {
  assert.is(firstFreeLetter(['C', 'D']), 'E');
  assert.is(firstFreeLetter(['c', 'e']), 'D');
  assert.is(firstFreeLetter([]), 'D');
  assert.is(firstFreeLetter([...'CDEFGHIJKLMNOPQRSTUVWXYZ']), null);
});

test('the data disk: the first disk by number that is not boot, system or removable', () => {
  const disk = (number: number, extra: Partial<WindowsDisk> = {}): WindowsDisk => ({ number, partitionStyle: 'RAW', partitions: 0, boot: false, system: false, offline: false, readOnly: false, size: 1, busType: 'SCSI', uniqueId: '', name: '', ...extra });
  const { disk: chosen, others } = dataDiskOf([disk(3), disk(0, { boot: true, system: true }), disk(1, { busType: 'USB' }), disk(2), disk(4, { busType: 'File Backed Virtual' })]);
  assert.is(chosen?.number, 2);
  assert.equal(others.map((d) => d.number), [3]);
  assert.is(dataDiskOf([disk(0, { system: true })]).disk, null);
});

test('the one-time password: 24 characters, every kind present, nothing XML must escape, new each time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = oneTimePassword();
    assert.is(p.length, 24);
    for (const kind of [/[A-Z]/, /[a-z]/, /[0-9]/, /[-_.+=#%!]/]) assert.match(p, kind);
    assert.not.match(p, /[<>&"']/);
    seen.add(p);
  }
  assert.is(seen.size, 200);
});

test("the one-time password comes from the platform's random bytes, and a byte that would bias a pick is drawn again", () => {
  const original = platform.randomBytes;
  // 250 % 24 would pick L, the 11th capital letter: 250 is above the largest multiple of 24 (240), so 3 (D) is drawn instead.
  const bytes = [250, 3];
  platform.randomBytes = (count) => Buffer.from(Array.from({ length: count }, () => bytes.shift() ?? 0));
  try {
    const p = oneTimePassword();
    assert.is([...p].sort().join(''), ['-', '2', 'D', 'a', ...Array(20).fill('A')].sort().join(''));
  } finally {
    platform.randomBytes = original;
  }
});

const answers = answerFiles();
/** The Value of every element whose name ends in Password (AdministratorPassword, Password of an account or AutoLogon). */
const passwordValues = (xml: string) => [...xml.matchAll(/<(\w*Password)>([\s\S]*?)<\/\1>/g)].map((m) => /<Value>([\s\S]*?)<\/Value>/.exec(m[2])?.[1]);

test('the committed answer files are what build/answer-files.ts makes', () => {
  for (const [path, text] of Object.entries(answers)) assert.fixture(readFileSync(join(repoRoot, path), 'utf8'), text, path);
  assert.is(Object.keys(answers).length, 13, 'the sysprep file and 6 versions x BIOS, UEFI');
});

test('no password and no product key in any answer file: placeholders only', () => {
  for (const [path, text] of Object.entries(answers)) {
    const passwords = passwordValues(text);
    assert.ok(passwords.length > 0, path);
    for (const value of passwords) assert.ok(value === ONE_TIME_PASSWORD || value === TEMPORARY_PASSWORD, `${path}: password value ${value}`);
    for (const [, key] of text.matchAll(/<Key>([^<]*)<\/Key>/g)) assert.ok(key === PRODUCT_KEY || key === '/IMAGE/NAME', `${path}: key ${key}`);
    assert.not.match(text, /\b[A-Z0-9]{5}(-[A-Z0-9]{5}){4}\b/, `${path}: something shaped like a product key`);
    assert.not.match(text, /<PlainText>false<\/PlainText>/, `${path}: an encoded password`);
  }
});

test('the check would find an embedded password', () => {
  const leaked = answers['windows/sysprep/unattend.xml'].replace(`<Value>${ONE_TIME_PASSWORD}</Value>`, '<Value>hunter2</Value>');
  assert.equal(passwordValues(leaked), ['hunter2']);
});

test.run();
