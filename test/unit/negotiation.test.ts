// The client's reset, negotiation and exchanges, driven directly through a transport that plays
// a scripted host's lines in memory: every dialect, with and without stale input in flight.
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BudgetExhaustedError, MetadataClient, type Reply } from '../../lib/client/metadata-client';
import { encodeFrame } from '../../lib/protocol/v2';
import { LineChannel } from '../../lib/transport/line-channel';
import type { Transport } from '../../lib/transport/transport';
import { ScriptedHost, STALE_INPUT, type Dialect, type ScriptedHostOptions } from '../support/scripted-host';

const values = { plain: 'value', script: '#!/bin/sh\n.dot\n' };

/** Plays `host` in memory: each line we write is answered on the next tick, as a real host would. */
class InMemoryTransport implements Transport {
  readonly description = 'in-memory';
  private readonly stream = new PassThrough();
  readonly input = new LineChannel(this.stream);
  private pending = '';

  constructor(private readonly host: ScriptedHost, private readonly writes: string[]) {}

  async write(data: string): Promise<void> {
    this.writes.push(data);
    this.pending += data;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    const sink = { write: (text: string) => void setImmediate(() => this.stream.write(Buffer.from(text, 'latin1'))) } as unknown as Socket;
    for (const line of lines) this.host.handleLine(line, sink);
  }

  async discardInput(): Promise<void> {
    this.input.discard();
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}

function client(options: ScriptedHostOptions, budgetMs = 5000) {
  const host = new ScriptedHost({ values, ...options });
  let opened = 0;
  const writes: string[] = [];
  const c = new MetadataClient({
    open: async () => {
      opened++;
      return new InMemoryTransport(host, writes);
    },
    deadline: Date.now() + budgetMs,
    budgetSeconds: budgetMs / 1000,
  });
  return { c, host, writes, opened: () => opened };
}


const DIALECTS: Array<[Dialect, 1 | 2]> = [
  ['V2_OK', 2],
  ['FAILURE', 1],
  ['invalid command', 1],
  ['WHAT?', 1],
];

for (const [dialect, version] of DIALECTS) {
  for (const [staleName, stale] of Object.entries(STALE_INPUT)) {
    test(`answer ${JSON.stringify(dialect)} to NEGOTIATE, stale input: ${staleName} -> V${version}, and GET works`, async () => {
      const { c } = client({ dialect, staleBeforeReset: stale });
      await c.start();
      assert.is(c.protocolVersion, version);
      assert.equal(await c.requestAll([{ code: 'GET', key: 'plain' }]), [{ kind: 'success', value: Buffer.from('value') }]);
      assert.equal(await c.requestAll([{ code: 'GET', key: 'script' }]), [{ kind: 'success', value: Buffer.from('#!/bin/sh\n.dot\n') }]);
      assert.equal(await c.requestAll([{ code: 'GET', key: 'nosuch' }]), [{ kind: 'notfound' }]);
      await c.close();
    });
  }
}

const GETS = ['plain', 'script', 'nosuch'].map((key) => ({ code: 'GET', key }) as const);
const ANSWERS = [{ kind: 'success', value: Buffer.from('value') }, { kind: 'success', value: Buffer.from('#!/bin/sh\n.dot\n') }, { kind: 'notfound' }];
const getLines = (writes: string[]) => writes.map((w) => w.split('\n').filter((l) => /^V2 .* GET |^GET /.test(l)).length).filter((n) => n > 0);

test('V2: GETs go out in one write, and replies in another order, with a stale frame among them, are matched by id', async () => {
  const held: string[] = [];
  const { c, writes } = client({
    respond: (_req, correct, socket, count) => {
      held.unshift(correct);
      if (count === 3) socket.write(`${encodeFrame('0badf00d', 'SUCCESS', 'stale')}${held.join('')}`);
      return null;
    },
  });
  assert.equal(await c.requestAll(GETS), ANSWERS);
  assert.equal(getLines(writes), [3]);
  await c.close();
});

test('V2: a host that answers the first of three GETs, then goes silent: a new session resends only the other two', async () => {
  const { c, host, opened } = client({ respond: (_req, correct, _socket, count) => (count === 2 || count === 3 ? null : correct) }, 4000);
  assert.equal(await c.requestAll(GETS), ANSWERS);
  assert.is(opened(), 2);
  assert.is(host.requests, 5);
  await c.close();
});

test('V2: when the budget runs out with one GET unanswered, the replies that came are kept in the caller\'s array', async () => {
  const { c } = client({ respond: (req, correct) => (req.payload === 'script' ? null : correct) }, 3000);
  const replies: Array<Reply | undefined> = GETS.map(() => undefined);
  const thrown = await c.requestAll(GETS, replies).then(() => null, (err: unknown) => err);
  assert.instance(thrown, BudgetExhaustedError);
  assert.equal(replies, [ANSWERS[0], undefined, ANSWERS[2]]);
  await c.close();
});

test('no operations: nothing is written after the negotiation', async () => {
  const { c, writes } = client({});
  assert.equal(await c.requestAll([]), []);
  assert.equal(writes, ['\nNEGOTIATE V2\n']);
  await c.close();
});

test('V1: the GETs of one call go one at a time, each after the last reply', async () => {
  const { c, writes } = client({ dialect: 'FAILURE' });
  assert.equal(await c.requestAll(GETS), ANSWERS);
  assert.equal(getLines(writes), [1, 1, 1]);
  await c.close();
});

test('no answer to the reset: a new session within the budget, then V2', async () => {
  const { c, opened } = client({ ignoreFirstLines: 2 }, 10_000);
  await c.start();
  assert.is(c.protocolVersion, 2);
  assert.is(opened(), 2);
  await c.close();
});

test('no answer to the probe on an invalid-command host: a new session, then V1', async () => {
  const { c, opened } = client({ dialect: 'invalid command', ignoreFirstLines: 2 }, 10_000);
  await c.start();
  assert.is(c.protocolVersion, 1);
  assert.is(opened(), 2);
  await c.close();
});

test('V1 hosts: KEYS works; PUT and DELETE are unsupported without a request', async () => {
  for (const dialect of ['FAILURE', 'invalid command'] as const) {
    const { c, host } = client({ dialect });
    await c.start();
    assert.equal(await c.requestAll([{ code: 'KEYS' }]), [{ kind: 'success', value: Buffer.from('plain\nscript') }]);
    const linesBefore = host.lines;
    assert.equal(await c.requestAll([{ code: 'PUT', key: 'k', value: Buffer.from('v') }]), [{ kind: 'unsupported' }]);
    assert.equal(await c.requestAll([{ code: 'DELETE', key: 'k' }]), [{ kind: 'unsupported' }]);
    assert.is(host.lines, linesBefore);
    await c.close();
  }
});

test('a V1 GET answered `invalid command` is unsupported; answered FAILURE, a failure', async () => {
  for (const [answer, expected] of [
    ['invalid command', { kind: 'unsupported' }],
    ['FAILURE', { kind: 'failure', message: 'FAILURE' }],
  ] as const) {
    const { c } = client({ dialect: 'FAILURE', v1GetAnswer: answer });
    await c.start();
    assert.equal(await c.requestAll([{ code: 'GET', key: 'plain' }]), [expected]);
    await c.close();
  }
});

test('a programming error in the transport is thrown at once, not retried as a lost connection', async () => {
  let opened = 0;
  const c = new MetadataClient({
    open: async () => {
      opened++;
      throw new TypeError('x is not a function');
    },
    deadline: Date.now() + 5000,
    budgetSeconds: 5,
  });
  const thrown = await c.start().then(() => null, (err: unknown) => err);
  assert.instance(thrown, TypeError);
  assert.is(opened, 1);
});

test.run();
