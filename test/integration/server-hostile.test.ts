// mdata-server against hostile guests: one connection must not stall the others or make the
// server hold memory without bound, and planted files must not be followed. Real server process,
// real unix sockets; memory from /proc; times only as ratios within one run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, encodeRequest, frameLine } from '../../lib/protocol/v2';
import { sleep } from '../../lib/time-limit';
import { eventually } from '../support/eventually';
import { bytesRead, Client, killServers, memoryMiB, seedDir, startServer, stopServer } from '../support/mdata-server';
import { skipTest } from '../support/skip';
import { isPresent } from '../support/tree';

const WORK = mkdtempSync(join(tmpdir(), 'mdata-hostile-'));
const NUM = 'SUCCESS\n42\n.\n';
const MiB = 1024 * 1024;

/** Milliseconds until `client` has the whole `expected` reply to `request`; fails after `limitMs`. */
async function replyTime(client: Client, request: string | Buffer, expected: string, limitMs = 30_000): Promise<number> {
  const started = process.hrtime.bigint();
  const reply = await client.ask(request, expected, limitMs);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.is(reply.length, expected.length, `no whole reply within ${limitMs} ms`);
  assert.is(reply, expected);
  return ms;
}

/**
 * Sends `bytes` and waits (at most 10 s) until the client's socket has handed them all over and
 * the server process (`pid`) has read them; returns whether it did in time.
 */
async function sendAndUntilRead(client: Client, pid: number, bytes: string): Promise<boolean> {
  const target = bytesRead(pid) + Buffer.byteLength(bytes);
  client.send(bytes);
  return eventually(() => client.socket.writableLength === 0 && bytesRead(pid) >= target, 10_000, 2);
}

/** Waits (at most `limitMs`) until `socket` has stopped handing bytes to the server; returns whether it did. */
async function untilStalled(client: Client, limitMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let last = -1;
  let still = 0;
  while (Date.now() < deadline && still < 3) {
    await sleep(200);
    const now = client.socket.writableLength;
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return still >= 3;
}

/** `read()` once it has kept one value for `quietMs` (checked every 50 ms), or null if it has not within `limitMs`. */
async function settled(read: () => number, quietMs = 500, limitMs = 10_000): Promise<number | null> {
  let last = read();
  let since = Date.now();
  const quiet = await eventually(() => {
    const now = read();
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= quietMs;
  }, limitMs);
  return quiet ? last : null;
}

const WORST_SHAPES: Array<[string, (n: number) => string, string]> = [
  ['GET + spaces + x', (n) => `GET ${' '.repeat(n)}x`, 'NOTFOUND\n'],
  ['x + spaces + y', (n) => `x${' '.repeat(n)}y`, 'FAILURE\n'],
  ['V2 + digits', (n) => `V2 ${'7'.repeat(n)}`, ''],
  ['V2 + spaces + 1x', (n) => `V2 ${' '.repeat(n)}1x`, ''],
  ['V2 + digits + space + hex', (n) => `V2 ${'1'.repeat(n / 2)} ${'a'.repeat(n / 2)}`, ''],
];

test('the server time for one request line of n and of 10n bytes grows linearly (worst shapes)', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
  const client = await Client.connect(seed.socket);
  /** From the LF that completes a line of `n` bytes (already sent and read) to the answer to an empty line after it. */
  const time = async (make: (n: number) => string, n: number, reply: string) => {
    assert.ok(await sendAndUntilRead(client, server.child.pid!, make(n)), `the server read a line of ${n} bytes within 10 s`);
    return replyTime(client, '\n\n', `${reply}invalid command\n`);
  };
  const ratios: string[] = [];
  for (const [shape, make, reply] of WORST_SHAPES) {
    await time(make, 10_000, reply);
    const small: number[] = [];
    const large: number[] = [];
    for (let run = 0; run < 5; run++) {
      small.push(await time(make, 100_000, reply));
      large.push(await time(make, 1_000_000, reply));
    }
    // The fastest run of each: load from elsewhere only ever adds time.
    const [fastSmall, fastLarge] = [Math.min(...small), Math.min(...large)];
    ratios.push(`${shape}: ${fastSmall.toFixed(1)} / ${fastLarge.toFixed(1)} ms`);
    // Linear: about 10 (less, with the fixed cost of a round trip); quadratic: about 100.
    assert.ok(fastLarge / Math.max(fastSmall, 0.5) < 30, `${shape}: 100 kB in ${fastSmall.toFixed(1)} ms, 1 MB in ${fastLarge.toFixed(1)} ms`);
  }
  console.log(`  100 kB / 1 MB: ${ratios.join('; ')}`);
  client.close();
  assert.is(await stopServer(server), 0);
});

test('connections that never read their replies are paused: memory stays bounded, others are served', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
  const pid = server.child.pid!;
  const before = memoryMiB(pid).rss;
  // Each line is answered with a FAILURE frame that echoes its 2 MiB code: 2.7 MiB per reply.
  const line = Buffer.from(frameLine(`0a1b2c3d ${'X'.repeat(2 * MiB)}`));
  const hogs = await Promise.all([Client.connect(seed.socket), Client.connect(seed.socket)]);
  for (const hog of hogs) {
    hog.socket.pause();
    for (let i = 0; i < 50; i++) hog.socket.write(line);
  }
  assert.equal(await Promise.all(hogs.map((hog) => untilStalled(hog))), [true, true], 'both connections stopped sending within 20 s');
  const grown = memoryMiB(pid).peak - before;
  const other = await Client.connect(seed.socket);
  assert.is(await other.ask('GET num\n', NUM), NUM);
  hogs.forEach((hog) => hog.close());
  other.close();
  assert.ok(grown < 80, `server peak grew by ${grown.toFixed(0)} MiB for 200 MiB sent and not read back`);
  assert.is(await stopServer(server), 0);
});

test('long lines sent one byte per write cost the server about a byte per byte', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
  const pid = server.child.pid!;
  const before = memoryMiB(pid).rss;
  const clients = await Promise.all(Array.from({ length: 8 }, () => Client.connect(seed.socket)));
  const BYTES = 150_000;
  clients.forEach((c) => c.send('GET '));
  const byte = Buffer.from('k');
  for (let i = 0; i < BYTES; i++) {
    for (const c of clients) c.socket.write(byte);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const answers = await Promise.all(clients.map((c) => c.ask('\n', 'NOTFOUND\n', 20_000)));
  const grown = memoryMiB(pid).peak - before;
  clients.forEach((c) => c.close());
  assert.equal(answers, clients.map(() => 'NOTFOUND\n'));
  assert.ok(grown < 25, `server peak grew by ${grown.toFixed(0)} MiB for ${((8 * BYTES) / MiB).toFixed(1)} MiB of partial lines`);
  assert.is(await stopServer(server), 0);
});

test('partial lines share one memory budget: past it, a long line is refused and the rest go on', async () => {
  const seed = seedDir(WORK);
  // --max-line 4 MiB: the budget is 64 MiB; 40 connections want about 80 MiB of partial lines.
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--max-line', String(4 * MiB), '--quiet']);
  const clients = await Promise.all(Array.from({ length: 40 }, () => Client.connect(seed.socket)));
  const partial = Buffer.from(`GET ${'k'.repeat(2 * MiB)}`);
  for (const c of clients) c.send(partial);
  const stalled = await Promise.all(clients.map((c) => untilStalled(c, 10_000)));
  assert.is(stalled.filter(Boolean).length, 40, 'every connection stopped sending within 10 s');
  // The FAILURE replies may still be on their way: count them once the count holds still.
  const refused = await settled(() => clients.filter((c) => c.received === 'FAILURE\n').length);
  assert.ok(refused !== null, 'the count of refused connections settled within 10 s');
  assert.ok(refused > 0 && refused < 20, `${refused} of 40 refused`);
  const answers = await Promise.all(clients.map((c) => c.ask('\n', c.received === 'FAILURE\n' ? '' : 'NOTFOUND\n', 10_000)));
  assert.is(answers.filter((a) => a === 'NOTFOUND\n').length, 40 - refused);
  clients.forEach((c) => c.close());
  // Once the server has seen them close, the budget is whole again: a new long line fits.
  let reply = '';
  await eventually(async () => {
    const again = await Client.connect(seed.socket);
    again.send(Buffer.concat([partial, Buffer.from('\nGET num\n')]));
    reply = await again.until((text) => text.endsWith(NUM), 10_000);
    again.close();
    return reply === `NOTFOUND\n${NUM}`;
  });
  assert.is(reply, `NOTFOUND\n${NUM}`, 'a long line on a new connection, within 10 s of the others closing');
  assert.is(await stopServer(server), 0);
});

test('--idle-timeout closes idle connections and keeps busy ones', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--idle-timeout', '1']);
  const idle = await Client.connect(seed.socket);
  const busy = await Client.connect(seed.socket);
  // 12 asks 200 ms apart: the busy connection outlives the 1 s limit several times over.
  for (let n = 1; n <= 12; n++) {
    assert.is(await busy.ask('GET num\n', NUM), NUM, `answer ${n} of 12`);
    await sleep(200);
  }
  await idle.until(() => false, 10_000);
  assert.ok(idle.ended, 'the idle connection was closed');
  assert.not.ok(busy.ended, 'the busy connection is open');
  assert.match(server.stderr(), /idle for 1 s/);
  busy.close();
  assert.is(await stopServer(server), 0);
});

test('--max-connections in --zones-root: a zone over its limit is refused, other zones are not', async () => {
  const root = join(WORK, 'limit');
  for (const zone of ['a', 'b']) {
    mkdirSync(join(root, zone, 'config'), { recursive: true });
    writeFileSync(join(root, zone, 'config', 'metadata.json'), JSON.stringify({ customer_metadata: { num: 42 } }));
  }
  const server = await startServer(['--zones-root', root, '--max-connections', '3']);
  const socket = (zone: string) => join(root, zone, 'metadata.sock');
  const a = await Promise.all([1, 2, 3].map(() => Client.connect(socket('a'))));
  for (const c of a) assert.is(await c.ask('GET num\n', NUM), NUM);
  const extra = await Client.connect(socket('a'));
  extra.send('GET num\n');
  await extra.until(() => false, 2000);
  assert.ok(extra.ended, 'the fourth connection to zone a is closed');
  assert.is(extra.received, '');
  const b = await Promise.all([1, 2, 3].map(() => Client.connect(socket('b'))));
  for (const c of b) assert.is(await c.ask('GET num\n', NUM), NUM);
  assert.match(server.stderr(), /zone a: connection refused: 3 connections open/);
  a[0].close();
  // Once the server has seen the close, zone a has a free slot again.
  const served: Client[] = [];
  await eventually(async () => {
    const next = await Client.connect(socket('a'));
    if ((await next.ask('GET num\n', NUM)) !== NUM) {
      next.close();
      return false;
    }
    served.push(next);
    return true;
  });
  assert.is(served.length, 1, 'a new connection to zone a is served within 10 s of one of the three closing');
  [...a, ...b, ...served].forEach((c) => c.close());
  assert.is(await stopServer(server), 0);
});

test('junk lines are logged a few at a time per connection, then summed up', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata]);
  const before = server.stderrBytes();
  const client = await Client.connect(seed.socket);
  const kinds = ['X\n', 'V2 1 a b c\n', `V2 ${'9'.repeat(200)} 0 0 x\n`, `${frameLine('0a1b2c3d FROB')}`, 'V2 25 c0eeb3c7 0a1b2c3d GET c2RjOnV1aWQ=\n'];
  let junk = '';
  for (let i = 0; junk.length < 600_000; i++) junk += kinds[i % kinds.length];
  client.send(`${junk}\nGET num\n`);
  const replies = await client.until((t) => t.endsWith(`invalid command\n${NUM}`), 20_000);
  assert.ok(replies.endsWith(`invalid command\n${NUM}`), 'answered after the junk');
  client.close();
  // The summary line comes when the server sees the connection close.
  await eventually(() => /more problems not logged/.test(server.stderr()));
  const logged = server.stderrBytes() - before;
  assert.ok(logged < 5000, `${logged} bytes of log for ${junk.length} bytes of junk`);
  assert.match(server.stderr(), /more problems not logged/);
  assert.is(await stopServer(server), 0);
});

test('a stderr pipe nobody reads does not make the server grow', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata], undefined, { readStderr: false });
  const pid = server.child.pid!;
  const before = memoryMiB(pid).rss;
  const junk = 'X\n'.repeat(200_000);
  const clients = await Promise.all(Array.from({ length: 4 }, () => Client.connect(seed.socket)));
  await Promise.all(clients.map((c) => c.ask(junk, 'FAILURE\n'.repeat(200_000), 60_000)));
  for (let round = 0; round < 20; round++) {
    const short = await Promise.all(Array.from({ length: 20 }, () => Client.connect(seed.socket)));
    await Promise.all(short.map((c) => c.ask('X\nY\nZ\n', 'FAILURE\n'.repeat(3))));
    short.forEach((c) => c.close());
  }
  const grown = memoryMiB(pid).peak - before;
  assert.is(await clients[0].ask('GET num\n', NUM), NUM);
  clients.forEach((c) => c.close());
  assert.ok(grown < 40, `server peak grew by ${grown.toFixed(0)} MiB with its stderr not read`);
  assert.is(await stopServer(server), 0);
});

test('symbolic links planted at temp-file names are never followed', async () => {
  const seed = seedDir(WORK);
  const victim = `${seed.dir}-victim`;
  writeFileSync(victim, 'do not touch\n');
  chmodSync(victim, 0o600);
  // Names of the current scheme, `.metadata.json.<16 random hex>.tmp`. Planted before the start,
  // they look like temp files a crash left: the server removes the links, not what they point to.
  const stale = ['0000000000000000', '0123456789abcdef', 'ffffffffffffffff'].map((hex) => `.metadata.json.${hex}.tmp`);
  for (const name of stale) symlinkSync(victim, join(seed.dir, name));
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
  for (const name of stale) assert.not.ok(isPresent(join(seed.dir, name)), `${name} removed at start`);
  // Planted after the start, they wait beside the file through every PUT. A PUT meets one only if
  // its random name happens to be one of them; test/unit/atomic-write.test.ts forces that meeting.
  const names = Array.from({ length: 20 }, (_, n) => `.metadata.json.${(n + 1).toString(16).padStart(16, '0')}.tmp`);
  for (const name of names) symlinkSync(victim, join(seed.dir, name));
  const client = await Client.connect(seed.socket);
  for (let n = 1; n <= 5; n++) {
    const reqid = `0000000${n}`;
    assert.is(await client.ask(encodeRequest('PUT', reqid, `k${n}`, 'v'), encodeFrame(reqid, 'SUCCESS', 'OK')), encodeFrame(reqid, 'SUCCESS', 'OK'));
  }
  client.close();
  assert.is(readFileSync(victim, 'utf8'), 'do not touch\n');
  assert.is(statSync(victim).mode & 0o777, 0o600);
  assert.is(JSON.parse(readFileSync(seed.metadata, 'utf8')).customer_metadata.k5, 'v');
  for (const name of names) assert.ok(lstatSync(join(seed.dir, name)).isSymbolicLink(), name);
  assert.is(await stopServer(server), 0);
});

test('temp files left by a crash are removed at start; other files are left alone', async () => {
  const seed = seedDir(WORK);
  const stale = join(seed.dir, '.metadata.json.0123456789abcdef.tmp');
  const others = ['.metadata.json.keep.tmp', '.metadata.json.0123456789ABCDEF.tmp', '.vm.json.0123456789abcdef.tmp'];
  writeFileSync(stale, '{"half": ');
  for (const name of others) writeFileSync(join(seed.dir, name), 'x');
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata]);
  assert.not.ok(existsSync(stale));
  for (const name of others) assert.ok(existsSync(join(seed.dir, name)), name);
  assert.match(server.stderr(), `removed stale temp file ${stale}`);
  assert.is(await stopServer(server), 0);
});

test('PUT keeps the owner, group and mode of the metadata file', async () => {
  if (process.getuid?.() !== 0) return skipTest('giving a file another owner needs root');
  const seed = seedDir(WORK);
  chownSync(seed.metadata, 4321, 8765);
  chmodSync(seed.metadata, 0o640);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
  const client = await Client.connect(seed.socket);
  const ok = encodeFrame('00000001', 'SUCCESS', 'OK');
  assert.is(await client.ask(encodeRequest('PUT', '00000001', 'k', 'v'), ok), ok);
  client.close();
  const st = statSync(seed.metadata);
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [4321, 8765, 0o640]);
  assert.is(JSON.parse(readFileSync(seed.metadata, 'utf8')).customer_metadata.k, 'v');
  assert.is(await stopServer(server), 0);
});

test('--metadata given as a symbolic link: PUT replaces the file it points to, the link stays', async () => {
  const seed = seedDir(WORK);
  const link = join(seed.dir, 'link.json');
  symlinkSync(seed.metadata, link);
  chmodSync(seed.metadata, 0o640);
  const server = await startServer(['--socket', seed.socket, '--metadata', link, '--quiet']);
  const client = await Client.connect(seed.socket);
  const ok = encodeFrame('00000001', 'SUCCESS', 'OK');
  assert.is(await client.ask(encodeRequest('PUT', '00000001', 'k', 'v'), ok), ok);
  client.close();
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.is(statSync(seed.metadata).mode & 0o777, 0o640);
  assert.is(JSON.parse(readFileSync(seed.metadata, 'utf8')).customer_metadata.k, 'v');
  assert.is(await stopServer(server), 0);
});

test('--zones-root refuses symbolic links: a zone folder, its config folder, metadata.json or vm.json', async () => {
  const root = join(WORK, 'linked-zones');
  const zone = (name: string) => {
    mkdirSync(join(root, name, 'config'), { recursive: true });
    writeFileSync(join(root, name, 'config', 'metadata.json'), JSON.stringify({ customer_metadata: { who: name } }));
  };
  zone('b');
  symlinkSync(join(root, 'b'), join(root, 'linked'));
  mkdirSync(join(root, 'config-link'));
  symlinkSync(join(root, 'b', 'config'), join(root, 'config-link', 'config'));
  mkdirSync(join(root, 'file-link', 'config'), { recursive: true });
  symlinkSync(join(root, 'b', 'config', 'metadata.json'), join(root, 'file-link', 'config', 'metadata.json'));
  zone('vm-link');
  writeFileSync(join(root, 'b', 'config', 'vm.json'), '{"uuid": "b"}');
  symlinkSync(join(root, 'b', 'config', 'vm.json'), join(root, 'vm-link', 'config', 'vm.json'));
  const bBefore = readFileSync(join(root, 'b', 'config', 'metadata.json'), 'utf8');

  const server = await startServer(['--zones-root', root]);
  const lines = server.stderr().split('\n');
  assert.ok(lines.includes(`mdata-server: serving 1 zones under ${root}: b`), server.stderr());
  for (const [name, what] of [['linked', 'linked'], ['config-link', 'config-link/config'], ['file-link', 'file-link/config/metadata.json'], ['vm-link', 'vm-link/config/vm.json']]) {
    assert.is(lines.filter((l) => l.includes(`zone ${name} skipped: ${join(root, what)} is a symbolic link`)).length, 1, `${name}: ${server.stderr()}`);
  }
  for (const name of ['config-link', 'file-link', 'vm-link']) assert.not.ok(readdirSync(join(root, name)).includes('metadata.sock'), name);
  const b = await Client.connect(join(root, 'b', 'metadata.sock'));
  assert.is(await b.ask('GET who\n', 'SUCCESS\nb\n.\n'), 'SUCCESS\nb\n.\n');
  b.close();
  assert.is(await stopServer(server), 0);
  assert.is(readFileSync(join(root, 'b', 'config', 'metadata.json'), 'utf8'), bBefore);
});

test.after(() => {
  killServers();
  rmSync(WORK, { recursive: true, force: true });
});

test.run();
