import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireDeviceLock, LockTimeoutError } from '../../lib/transport/device-lock';
import { startUntil } from '../support/processes';

const root = join(__dirname, '..', '..');
const addonPath = join(root, 'dist', 'native', `fcntl-lock-${process.platform}-${process.arch}.node`);
const children = new Set<ChildProcess>();
let socat: ChildProcess | undefined;
let device = '';

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first stdout line of `child` that starts with `prefix`. */
function waitForLine(child: ChildProcess, prefix: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; got: ${buf}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing "${prefix}"; got: ${buf}`));
    });
  });
}

async function startPtyPair(): Promise<string> {
  const { child, match } = await startUntil('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], /PTY is (\/dev\/pts\/\d+)/, 5000);
  socat = track(child);
  return match[1];
}

const PY_HOLD = `
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
`;

const PY_TRY = `
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("result ok", flush=True)
except OSError as e:
    print("result " + errno.errorcode[e.errno], flush=True)
`;

// Takes the lock in a separate Node process, prints times, holds it for holdMs.
const NODE_HOLD = `
const { acquireDeviceLock } = require(${JSON.stringify(join(root, 'lib', 'transport', 'device-lock.ts'))});
const [dev, holdMs] = process.argv.slice(1);
acquireDeviceLock(dev, Date.now() + 10000).then((lock) => {
  console.log('locked ' + Date.now());
  setTimeout(() => { console.log('released ' + Date.now()); lock.release(); }, Number(holdMs));
});
`;

function python(script: string, ...args: string[]): ChildProcess {
  return track(spawn('python3', ['-c', script, device, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
}

function nodeHolder(holdMs: number): ChildProcess {
  return track(spawn(process.execPath, ['-r', 'tsm', '-e', NODE_HOLD, device, String(holdMs)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }));
}

// Set up in before.each: uvu silently ignores errors thrown by a `before` hook.
test.before.each(async () => {
  if (!existsSync(addonPath)) throw new Error(`${addonPath} is missing: run \`make native\` first`);
  device ||= await startPtyPair();
});

test.after.each(() => {
  for (const child of children) if (child !== socat) child.kill('SIGKILL');
});

test.after(() => {
  for (const child of children) child.kill('SIGKILL');
});

test('waits for a lock held by another process (python lockf)', async () => {
  const holder = python(PY_HOLD, '0.5');
  await waitForLine(holder, 'locked');
  const start = Date.now();
  const lock = await acquireDeviceLock(device, start + 5000);
  const waited = Date.now() - start;
  lock.release();
  assert.ok(waited >= 400, `acquired after only ${waited} ms`);
});

test('throws LockTimeoutError at the deadline', async () => {
  const holder = python(PY_HOLD, '10');
  await waitForLine(holder, 'locked');
  const start = Date.now();
  const err = await acquireDeviceLock(device, start + 300).then(
    () => assert.unreachable('lock was granted'),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - start;
  assert.instance(err, LockTimeoutError);
  assert.ok(elapsed >= 300 && elapsed < 550, `gave up after ${elapsed} ms`);
});

test('excludes other processes while held (python LOCK_NB fails)', async () => {
  const lock = await acquireDeviceLock(device, Date.now() + 1000);
  try {
    const line = await waitForLine(python(PY_TRY), 'result');
    assert.ok(line === 'result EAGAIN' || line === 'result EACCES', line);
  } finally {
    lock.release();
  }
  assert.is(await waitForLine(python(PY_TRY), 'result'), 'result ok');
});

test('a second Node process waits for the first to release', async () => {
  const first = nodeHolder(1000);
  await waitForLine(first, 'locked');
  const released = waitForLine(first, 'released');
  const second = nodeHolder(0);
  const secondLocked = Number((await waitForLine(second, 'locked')).split(' ')[1]);
  const firstReleased = Number((await released).split(' ')[1]);
  assert.ok(secondLocked >= firstReleased, `second locked at ${secondLocked}, first released at ${firstReleased}`);
});

test.run();
