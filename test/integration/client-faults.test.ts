import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BudgetExhaustedError, openMetadataSession } from '../../lib/client/session';
import { encodeFrame } from '../../lib/protocol/v2';
import { ScriptedHost, type ScriptedHostOptions } from '../support/scripted-host';
import { bundleCommand, runTool, type RunOptions } from '../support/run-tool';

const values = { 'user-script': '#!/bin/sh\necho hi\n', plain: 'value' };

async function withHost(options: ScriptedHostOptions, fn: (host: ScriptedHost) => Promise<void>): Promise<void> {
  const host = await new ScriptedHost({ values, ...options }).listen();
  try {
    await fn(host);
  } finally {
    await host.close();
  }
}

function tool(host: ScriptedHost, name: string, args: string[], options: RunOptions = {}) {
  return runTool(bundleCommand, name, args, { ...options, env: { MDATA_SOCKET: host.path, ...options.env } });
}

test('junk lines and foreign frames before the answer are skipped', () =>
  withHost(
    {
      respond: (req, correct) =>
        'garbage line\n' +
        encodeFrame('00000000', 'SUCCESS', 'wrong id') +
        encodeFrame(req.reqid, 'SUCCESS', 'bad crc').replace(/ [0-9a-f]{8} /, ' deadbeef ') +
        correct,
    },
    async (host) => {
      const r = await tool(host, 'mdata-get', ['plain']);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout.toString(), 'value\n');
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    },
  ),
);

test('a reply split in pieces and one sent byte by byte are both read', () =>
  withHost(
    {
      respond: (_req, correct, socket, count) => {
        const pieces = count === 1 ? [correct.slice(0, 7), correct.slice(7, 20), correct.slice(20)] : [...correct];
        pieces.forEach((piece, i) => setTimeout(() => socket.write(piece), i * 2));
        return null;
      },
    },
    async (host) => {
      const first = await tool(host, 'mdata-get', ['user-script']);
      assert.is(first.code, 0, first.stderr);
      assert.is(first.stdout.toString(), '#!/bin/sh\necho hi\n');
      const second = await tool(host, 'mdata-list', []);
      assert.is(second.code, 0, second.stderr);
      assert.is(second.stdout.toString(), 'user-script\nplain\n');
    },
  ),
);

test('a disconnect mid-frame leads to a new session and a resend', () =>
  withHost(
    {
      respond: (_req, correct, socket, count) => {
        if (count > 1) return correct;
        socket.end(correct.slice(0, 10));
        return null;
      },
    },
    async (host) => {
      const r = await tool(host, 'mdata-get', ['plain']);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout.toString(), 'value\n');
      assert.is(host.connections, 2);
      assert.match(r.stderr, 'receive timeout, resetting protocol...');
    },
  ),
);

test('a frame with a bad CRC only is ignored, then the resend with a new id succeeds', () => {
  const ids: string[] = [];
  return withHost(
    {
      respond: (req, correct) => {
        ids.push(req.reqid);
        return ids.length === 1 ? correct.replace(/^V2 (\d+) [0-9a-f]{8}/, 'V2 $1 00c0ffee') : correct;
      },
    },
    async (host) => {
      const r = await tool(host, 'mdata-get', ['--timeout', '3', 'plain']);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout.toString(), 'value\n');
      assert.is(ids.length, 2);
      assert.is.not(ids[0], ids[1]);
    },
  );
});

test('a reply with a foreign request id only times out within the budget: exit 10', () =>
  withHost({ respond: (req) => encodeFrame(req.reqid === 'abcdef01' ? 'abcdef02' : 'abcdef01', 'SUCCESS', 'nope') }, async (host) => {
    const r = await tool(host, 'mdata-get', ['--timeout', '1.5', 'plain']);
    assert.is(r.code, 10, r.stderr);
    assert.ok(r.ms < 4000, `took ${r.ms} ms`);
    assert.match(r.stderr, /^ERROR: timed out after 1.5 s: /m);
  }),
);

test('a V1-only host: get and list work, put and delete are refused', () =>
  withHost({ dialect: 'FAILURE' }, async (host) => {
    const get = await tool(host, 'mdata-get', ['user-script']);
    assert.is(get.code, 0, get.stderr);
    assert.is(get.stdout.toString(), '#!/bin/sh\necho hi\n');
    const missing = await tool(host, 'mdata-get', ['nosuch']);
    assert.is(missing.code, 1);
    assert.is(missing.stderr, "No metadata for 'nosuch'\n");
    const list = await tool(host, 'mdata-list', []);
    assert.is(list.stdout.toString(), 'user-script\nplain\n');
    const put = await tool(host, 'mdata-put', ['k', 'v']);
    assert.is(put.code, 2);
    assert.is(put.stderr, 'ERROR: host does not support PUT\n');
    const del = await tool(host, 'mdata-delete', ['k']);
    assert.is(del.code, 2);
    assert.is(del.stderr, 'ERROR: host does not support DELETE\n');
  }),
);

test('FAILURE replies, with and without a reason', () =>
  withHost(
    {
      respond: (req) => (req.payload === 'plain' ? encodeFrame(req.reqid, 'FAILURE', 'Zone did not contain customer_metadata') : encodeFrame(req.reqid, 'FAILURE')),
    },
    async (host) => {
      const withReason = await tool(host, 'mdata-get', ['plain']);
      assert.is(withReason.code, 2);
      assert.is(withReason.stderr, "Error getting metadata for key 'plain': Zone did not contain customer_metadata\n");
      const bare = await tool(host, 'mdata-get', ['other']);
      assert.is(bare.code, 2);
      assert.is(bare.stderr, "Error getting metadata for key 'other': \n");
      const list = await tool(host, 'mdata-list', []);
      assert.is(list.stderr, 'Error getting metadata: \n');
      const put = await tool(host, 'mdata-put', ['plain', 'x']);
      assert.is(put.stderr, "Error putting metadata for key 'plain': \n");
      const del = await tool(host, 'mdata-delete', ['plain']);
      assert.is(del.stderr, "Error deleting metadata key 'plain': Zone did not contain customer_metadata\n");
    },
  ),
);

test('a silent host: exit 10 within the budget, not a hang', () =>
  withHost({ silent: true }, async (host) => {
    for (const [args, env] of [[['--timeout', '1', 'plain'], {}], [['plain'], { MDATA_TIMEOUT: '1' }]] as const) {
      const r = await tool(host, 'mdata-get', [...args], { env, killAfterMs: 10000 });
      assert.is(r.code, 10, r.stderr);
      assert.ok(r.ms >= 900 && r.ms < 3000, `took ${r.ms} ms`);
      assert.match(r.stderr, /^ERROR: timed out after 1 s: no reply from the metadata service\n$/);
    }
  }),
);

test('no service at all: exit 10 after retrying within the budget', async () => {
  const r = await runTool(bundleCommand, 'mdata-get', ['--timeout', '1', 'x'], { env: { MDATA_SOCKET: '/nonexistent/metadata.sock' } });
  assert.is(r.code, 10);
  assert.is(r.stderr, 'ERROR: timed out after 1 s: Could not find metadata socket.\n');
});

test('a missing serial device is a permanent error: exit 2 at once', async () => {
  const r = await runTool(bundleCommand, 'mdata-get', ['x'], { env: { MDATA_SERIAL: '/dev/nonexistent-tty' } });
  assert.is(r.code, 2);
  assert.is(r.stderr, 'ERROR: could not initialise protocol: Could not open serial device.\n');
});

test('a host that drops every request: resets are paced, not a busy loop', () =>
  withHost({ respond: (_req, _correct, socket) => (socket.destroy(), null) }, async (host) => {
    const r = await tool(host, 'mdata-get', ['--timeout', '2', 'plain']);
    assert.is(r.code, 10, r.stderr);
    const resets = r.stderr.split('receive timeout, resetting protocol...').length - 1;
    assert.ok(resets >= 2 && resets <= 12, `${resets} resets`);
    assert.ok(host.connections <= 13, `${host.connections} connections`);
  }),
);

test('once the budget is spent, requests still queued fail at once, with no new connection', () =>
  withHost({ respond: () => null }, async (host) => {
    const session = await openMetadataSession({ budgetSeconds: 1, target: { kind: 'socket', path: host.path } });
    let connectionsAtFirstFailure = -1;
    const keys = Array.from({ length: 10 }, (_, i) => `key${i}`);
    const started = Date.now();
    const results = await Promise.allSettled(
      keys.map((k) => session.get(k).catch((err: unknown) => {
        if (connectionsAtFirstFailure < 0) connectionsAtFirstFailure = host.connections;
        throw err;
      })),
    );
    const settledMs = Date.now() - started;
    await session.close();
    for (const r of results) assert.instance(r.status === 'rejected' ? r.reason : null, BudgetExhaustedError);
    assert.ok(settledMs < 2500, `all ten settled ${settledMs} ms after the 1 s budget began`);
    assert.is(host.connections, connectionsAtFirstFailure, 'no connection after the budget ran out');
  }),
);

test('a host that stops reading cannot stall a large PUT past the budget', () =>
  withHost({ afterNegotiate: (socket) => socket.pause() }, async (host) => {
    const r = await tool(host, 'mdata-put', ['--timeout', '2', 'big'], { input: Buffer.alloc(20 * 1024 * 1024, 'x'), killAfterMs: 15000 });
    assert.is(r.code, 10, r.stderr);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.match(r.stderr, /timed out after 2 s: the metadata service is not reading/);
  }),
);

test('a long reply that keeps arriving is not cut off by the idle limit', () => {
  const value = 'v'.repeat(300 * 1024);
  return withHost(
    {
      values: { big: value },
      respond: (_req, correct, socket) => {
        const pieces = 40;
        const size = Math.ceil(correct.length / pieces);
        for (let i = 0; i < pieces; i++) setTimeout(() => socket.write(correct.slice(i * size, (i + 1) * size)), i * 60);
        return null;
      },
    },
    async (host) => {
      // The budget allows an idle wait of at most 1.5 s; the whole reply takes about 2.4 s.
      const r = await tool(host, 'mdata-get', ['--timeout', '3', 'big']);
      assert.is(r.stderr, '');
      assert.is(r.code, 0);
      assert.is(r.stdout.toString(), `${value}\n`);
      assert.ok(r.ms > 2000, `took ${r.ms} ms`);
    },
  );
});

test('mdata-put with a stdin that never closes ends at the budget', async () => {
  const r = await runTool(bundleCommand, 'mdata-put', ['--timeout', '1', 'k'], { env: { MDATA_SOCKET: '/nonexistent' }, keepStdinOpen: true, killAfterMs: 10000 });
  assert.is(r.code, 10);
  assert.is(r.stderr, 'ERROR: timed out after 1 s: stdin was not closed\n');
  assert.ok(r.ms < 3000, `took ${r.ms} ms`);
});

test.run();
