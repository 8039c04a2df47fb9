// The in-process session API against a real mdata-server, over a unix socket and over a pty:
// plain values, typed errors, overlapping calls, GETs sent together, and the serial lock held until close().
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BudgetExhaustedError, HostFailureError, openMetadataSession, type MetadataSession } from '../../lib/client/session';
import type { MetadataTarget } from '../../lib/transport/detect';
import { encodeFrame } from '../../lib/protocol/v2';
import { MetadataHost } from '../support/metadata-host';
import { ScriptedHost } from '../support/scripted-host';
import { bundleCommand, repoRoot, runTool } from '../support/run-tool';

const fixtures = join(repoRoot, 'test', 'fixtures');

/** A session on a fresh mdata-server over a pty or a unix socket, with the progress notes it logged; both closed after `fn`. */
async function withSession(pty: boolean, fn: (session: MetadataSession, target: MetadataTarget, notes: string[]) => Promise<void>): Promise<void> {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(pty);
  const target: MetadataTarget = pty ? { kind: 'serial', path: host.device } : { kind: 'socket', path: host.socket };
  const notes: string[] = [];
  const session = await openMetadataSession({ budgetSeconds: 20, target, log: (l) => notes.push(l) });
  try {
    await fn(session, target, notes);
  } finally {
    await session.close();
    await host.close();
  }
}

const KEYS = ['user-script', 'no-newline', 'sdc:uuid', 'nosuch', 'empty'];
const VALUES = ['#!/bin/sh\necho hi\n', 'abc', '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f', null, ''];

for (const pty of [false, true]) {
  const over = pty ? 'a pty' : 'a unix socket';

  test(`over ${over}: values, keys, put, delete and typed errors`, () =>
    withSession(pty, async (session, target) => {
      assert.is(session.protocolVersion, 2);
      assert.is(session.transport, `${target.kind} ${target.path}`);
      assert.is(await session.get('sdc:uuid'), '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f');
      assert.is(await session.get('nosuch'), null);
      await session.put('greeting', 'hello\n');
      assert.is(await session.get('greeting'), 'hello\n');
      assert.ok((await session.keys())?.includes('greeting'));
      await session.delete('greeting');
      assert.is(await session.get('greeting'), null);
      const refused = await session.put('sdc:alias', 'x').then(() => null, (err: unknown) => err);
      assert.instance(refused, HostFailureError);
      assert.is((refused as HostFailureError).reason, 'Cannot update the "sdc" Namespace.');
    }));

  test(`over ${over}: 30 overlapping calls on one session all get their own answers at once`, () =>
    withSession(pty, async (session, _target, notes) => {
      const all = await Promise.all(Array.from({ length: 30 }, (_, i) => session.get(KEYS[i % KEYS.length])));
      all.forEach((value, i) => assert.is(value, VALUES[i % KEYS.length]));
      // A stalled waiter would run into an idle limit, and the session would reset and say so.
      assert.equal(notes, [], 'no reset was needed');
    }));

  test(`over ${over}: getMany sends 40 GETs together and gets each its own value, in order`, () =>
    withSession(pty, async (session, _target, notes) => {
      const all = await session.getMany(Array.from({ length: 40 }, (_, i) => KEYS[i % KEYS.length]));
      assert.equal(all, Array.from({ length: 40 }, (_, i) => VALUES[i % KEYS.length]));
      assert.equal(notes, [], 'no reset was needed');
    }));
}

test('getMany: when the budget runs out on a key the host never answers, the values read are kept', async () => {
  const host = await new ScriptedHost({ values: { plain: 'value', script: 'x' }, respond: (req, correct) => (req.payload === 'script' ? null : correct) }).listen();
  const session = await openMetadataSession({ budgetSeconds: 3, target: { kind: 'socket', path: host.path } });
  try {
    const [plain, script, nosuch] = await session.getMany(['plain', 'script', 'nosuch']);
    assert.is(plain, 'value');
    assert.instance(script, BudgetExhaustedError);
    assert.is(nosuch, null);
  } finally {
    await session.close();
    await host.close();
  }
});

test('getMany: a key the host answers with FAILURE gets its own error; the others their values', async () => {
  const host = await new ScriptedHost({
    values: { plain: 'value', script: 'x' },
    respond: (req, correct) => (req.payload === 'script' ? encodeFrame(req.reqid, 'FAILURE', 'boom') : correct),
  }).listen();
  const session = await openMetadataSession({ budgetSeconds: 20, target: { kind: 'socket', path: host.path } });
  try {
    const [plain, script, nosuch] = await session.getMany(['plain', 'script', 'nosuch']);
    assert.is(plain, 'value');
    assert.instance(script, HostFailureError);
    assert.is((script as HostFailureError).reason, 'boom');
    assert.is(nosuch, null);
  } finally {
    await session.close();
    await host.close();
  }
});

test('over a pty, the session holds the serial lock until close(); a waiting mdata-get then succeeds', async () => {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(true);
  const session = await openMetadataSession({ budgetSeconds: 20, target: { kind: 'serial', path: host.device } });
  try {
    const other = runTool(bundleCommand, 'mdata-get', ['--timeout', '15', 'sdc:uuid'], { env: host.env(true) });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.is(await session.get('no-newline'), 'abc', 'the session still works while the tool waits');
    await session.close();
    const r = await other;
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.toString(), '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n');
    assert.ok(r.ms >= 1500, `the tool finished after ${r.ms} ms, before the session let go`);
  } finally {
    await session.close();
    await host.close();
  }
});

test.run();
