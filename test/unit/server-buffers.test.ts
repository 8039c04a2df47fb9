// The server's line splitter, line budget and log limits, without a server process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConnectionLog, rateLimited, streamLog } from '../../lib/server/log';
import { ByteBudget, LineSplitter, SplitItem } from '../../lib/server/session';
import { withTimeLimit } from '../../lib/time-limit';
import { eventually } from '../support/eventually';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every item `next()` has now, as text. */
function drain(lines: LineSplitter): string[] {
  const out: string[] = [];
  for (let item: SplitItem | null = lines.next(); item; item = lines.next()) {
    out.push('line' in item ? item.line.toString('latin1') : `<${item.refused}: ${item.prefix.toString('latin1')}>`);
  }
  return out;
}

test('lines across reads, empty lines, a partial line kept until its LF', () => {
  const lines = new LineSplitter(100);
  lines.push(Buffer.from('GET a\n\nGE'));
  assert.equal(drain(lines), ['GET a', '']);
  lines.push(Buffer.from('T b'));
  assert.equal(drain(lines), []);
  lines.push(Buffer.from('\nKEYS\n'));
  assert.equal(drain(lines), ['GET b', 'KEYS']);
  assert.equal(lines.pending, { bytes: 0, reads: 0 });
});

test('a line over the limit is refused once, with its first bytes, and discarded up to its LF', () => {
  const lines = new LineSplitter(10);
  lines.push(Buffer.from('GET 0123456789\nGET ok\n'));
  assert.equal(drain(lines), ['<too long: GET 0123456789>', 'GET ok']);
  lines.push(Buffer.from('GET 01234'));
  lines.push(Buffer.from('56789'));
  lines.push(Buffer.from('more\nGET ok2\n'));
  assert.equal(drain(lines), ['<too long: GET 0123456789>', 'GET ok2']);
  const long = new LineSplitter(1000);
  long.push(Buffer.from(`V2 ${'x'.repeat(2000)}\n`));
  const [refused] = drain(long);
  assert.is(refused, `<too long: V2 ${'x'.repeat(253)}>`);
});

test('the budget is charged past 64 KiB a line, refuses when spent, and is given back', () => {
  const budget = new ByteBudget(100 * KiB);
  const a = new LineSplitter(MiB, budget);
  const b = new LineSplitter(MiB, budget);
  a.push(Buffer.alloc(64 * KiB + 90 * KiB, 'a'));
  assert.equal(drain(a), []);
  b.push(Buffer.alloc(64 * KiB, 'b'));
  assert.equal(drain(b), [], 'the first 64 KiB are free');
  b.push(Buffer.alloc(20 * KiB, 'b'));
  assert.is(drain(b)[0].slice(0, 12), '<no budget: ');
  b.push(Buffer.from('\nGET small\n'));
  assert.equal(drain(b), ['GET small']);
  a.push(Buffer.from('\n'));
  assert.is(drain(a).length, 1, 'the long line is whole');
  b.push(Buffer.alloc(64 * KiB + 90 * KiB, 'b'));
  assert.equal(drain(b), [], 'a gave its share back after its line');
  a.push(Buffer.alloc(64 * KiB + 20 * KiB, 'a'));
  assert.is(drain(a)[0].slice(0, 12), '<no budget: ');
  b.clear();
  a.push(Buffer.from('\n'));
  a.push(Buffer.alloc(64 * KiB + 90 * KiB, 'a'));
  assert.equal(drain(a), [], 'clear() gave b\'s share back');
});

test('a zone budget within the server budget: each limit holds', () => {
  const server = new ByteBudget(100);
  const zoneA = new ByteBudget(60, server);
  const zoneB = new ByteBudget(60, server);
  assert.ok(zoneA.reserve(60));
  assert.not.ok(zoneA.reserve(1));
  assert.ok(zoneB.reserve(40));
  assert.not.ok(zoneB.reserve(1), 'the server budget is spent');
  zoneA.release(30);
  assert.ok(zoneB.reserve(20));
});

test('a line arriving one byte per read costs about a byte per byte', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const lines = new LineSplitter(8 * MiB);
  const before = used();
  const BYTES = 1_000_000;
  // Each socket read is its own buffer (as allocUnsafeSlow makes them), with its own overhead.
  for (let i = 0; i < BYTES; i++) {
    const read = Buffer.allocUnsafeSlow(1);
    read[0] = 0x6b;
    lines.push(read);
    assert.is(lines.next(), null);
  }
  const grown = used() - before;
  assert.ok(grown < 4 * BYTES, `${(grown / MiB).toFixed(1)} MiB held for ${(BYTES / MiB).toFixed(1)} MiB of line`);
  lines.push(Buffer.from('\n'));
  const item = lines.next();
  assert.ok(item && 'line' in item && item.line.length === BYTES && item.line.every((c) => c === 0x6b));
});

test('ConnectionLog: the first three problems, then one summary line at close', () => {
  const lines: string[] = [];
  const log = new ConnectionLog((m) => lines.push(m), 'connection 7');
  for (let i = 0; i < 1000; i++) log.problem(`problem ${i}`);
  log.close();
  assert.equal(lines, ['connection 7: problem 0', 'connection 7: problem 1', 'connection 7: problem 2', 'connection 7: 997 more problems not logged']);
});

test('rateLimited: a burst goes through, the rest is counted and reported within a second', async () => {
  const lines: string[] = [];
  const log = rateLimited((m) => lines.push(m), 10, 5);
  for (let i = 0; i < 100; i++) log(`line ${i}`);
  assert.equal(lines, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  // The summary is due a second after the burst; a loaded machine may take a little longer.
  assert.ok(await eventually(() => lines.length > 5, 3000, 20), 'a summary line within 3 s');
  assert.equal(lines.slice(5), ['95 log lines suppressed (more than 10 a second)']);
  log('after');
  assert.is(lines[lines.length - 1], 'after');
});

test('streamLog: long messages are cut; a stream nobody reads queues at most 64 KiB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdata-log-'));
  const path = join(dir, 'log.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const writer = createConnection(path);
  const reader = await accepted;
  reader.pause();
  server.close();
  const log = streamLog(writer, 'x: ');
  log('y'.repeat(10_000));
  for (let i = 0; i < 20_000; i++) log(`line ${i} ${'z'.repeat(100)}`);
  assert.ok(writer.writableLength < 64 * KiB + 200, `${writer.writableLength} bytes queued`);
  let received = '';
  reader.on('data', (d: Buffer) => (received += d.toString()));
  reader.resume();
  const drained = new Promise<boolean>((resolve) => writer.once('drain', () => resolve(true)));
  assert.ok(await withTimeLimit(drained, 10_000, () => false), `the queue drained within 10 s (${writer.writableLength} bytes left)`);
  log('the end');
  await eventually(() => received.endsWith('x: the end\n'));
  const lines = received.split('\n');
  assert.is(lines[0], `x: ${'y'.repeat(300)}... (10000 characters)`);
  assert.match(received, /\nx: \d+ log lines dropped: the log was not being read\nx: the end\n$/);
  writer.destroy();
  reader.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
