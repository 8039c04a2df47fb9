import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame } from '../../lib/protocol/v2';
import { MetadataHost } from '../support/metadata-host';
import { bridgePty, stop } from '../support/processes';
import { bundleCommand, runTool } from '../support/run-tool';
import { ScriptedHost } from '../support/scripted-host';

const fixtures = join(__dirname, '..', 'fixtures');

async function withPtyHost(fn: (host: MetadataHost) => Promise<void>): Promise<void> {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
  try {
    await fn(host);
  } finally {
    await host.close();
  }
}

test('the client waits for a Python fcntl.lockf holder (as cloud-init locks), then succeeds', () =>
  withPtyHost(async (host) => {
    const holder = spawn('python3', ['-c', 'import fcntl,os,sys,time\nfd=os.open(sys.argv[1],os.O_RDWR|os.O_NOCTTY)\nfcntl.lockf(fd,fcntl.LOCK_EX)\nprint("locked",flush=True)\ntime.sleep(1.0)\n', host.device], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      const r = await runTool(bundleCommand, 'mdata-get', ['no-newline'], { env: host.env(true) });
      assert.is(r.stderr, '');
      assert.is(r.code, 0);
      assert.is(r.stdout.toString(), 'abc\n');
      assert.ok(r.ms >= 800, `did not wait for the lock: ${r.ms} ms`);
    } finally {
      await stop(holder);
    }
  }));

test('a lock held past the budget ends in exit 10, not a hang', () =>
  withPtyHost(async (host) => {
    const holder = spawn('python3', ['-c', 'import fcntl,os,sys,time\nfd=os.open(sys.argv[1],os.O_RDWR|os.O_NOCTTY)\nfcntl.lockf(fd,fcntl.LOCK_EX)\nprint("locked",flush=True)\ntime.sleep(30)\n', host.device], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const r = await runTool(bundleCommand, 'mdata-get', ['--timeout', '1', 'no-newline'], { env: host.env(true) });
      assert.is(r.code, 10, r.stderr);
      assert.match(r.stderr, /timed out after 1 s: Could not lock serial device/);
      assert.ok(r.ms < 3000, `took ${r.ms} ms`);
    } finally {
      await stop(holder);
    }
  }));

test('many of our clients at once on one pty all get correct answers', () =>
  withPtyHost(async (host) => {
    const keys = ['user-script', 'no-newline', 'utf8', 'key with spaces', 'sdc:uuid', 'dotty'];
    const expected = ['#!/bin/sh\necho hi\n', 'abc\n', 'café ☕ ünïcödé\n', 'spaced value\n', '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n', '.leading dot\n..two dots\nplain\n'];
    const results = await Promise.all(keys.map((key) => runTool(bundleCommand, 'mdata-get', [key], { env: host.env(true) })));
    results.forEach((r, i) => {
      assert.is(r.stderr, '', keys[i]);
      assert.is(r.code, 0);
      assert.is(r.stdout.toString(), expected[i]);
    });
  }));

test('stale bytes left on the line, including a partial line, do not disturb the reset', async () => {
  const stale = 'SUCCESS\nold value\n.\n' + encodeFrame('0badf00d', 'SUCCESS', 'stale frame') + 'invalid command\npartial line without newline';
  const host = await new ScriptedHost({ values: { plain: 'value' }, onConnect: stale }).listen();
  const device = join(host.dir, 'ttyS1');
  const bridge = await bridgePty(device, host.path);
  try {
    await sleep(200);
    const r = await runTool(bundleCommand, 'mdata-get', ['plain'], { env: { MDATA_SERIAL: device } });
    assert.is(r.stderr, '');
    assert.is(r.code, 0);
    assert.is(r.stdout.toString(), 'value\n');
    assert.ok(r.ms < 2000, `took ${r.ms} ms`);
  } finally {
    await stop(bridge);
    await host.close();
  }
});

test.run();
