// A seeded, bounded fuzz of mdata-server over real unix sockets: hostile connections to one zone
// send mutated frames and lines, long and over-long lines, binary junk, partial writes,
// half-closed and cut connections and replies nobody reads, while probe clients in that zone and
// in another must keep being served within a bound and the server's memory must stay bounded.
// SDC_FUZZ_SEED replays a run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRequest, frameLine } from '../../lib/protocol/v2';
import { sleep } from '../../lib/time-limit';
import { Client, killServers, memoryMiB, startServer, stopServer } from '../support/mdata-server';
import { repoRoot } from '../support/run-tool';
import { fuzzSeed, Random } from '../support/random';

const WORK = mkdtempSync(join(tmpdir(), 'mdata-fuzz-'));
const SEED = fuzzSeed(0x8f00d);
const MAX_LINE = 1024 * 1024;
const FUZZ_MS = 8000;
const WORKERS = 12;
/**
 * A probe answered later than this means the server hung: it is far above what a loaded machine
 * adds (probes take milliseconds here; the slowest is printed).
 */
const PROBE_LIMIT_MS = 15_000;
/** Answers each probe must have had in FUZZ_MS: the server kept answering, not once and then stalled. */
const MIN_PROBES = 5;
const NUM = 'SUCCESS\n42\n.\n';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Writes `data` in a few pieces split at random points, yielding between them. */
async function writeInPieces(client: Client, data: Buffer, random: Random): Promise<void> {
  let at = 0;
  while (at < data.length && !client.ended) {
    const size = random.below(3) === 0 ? 1 + random.below(8) : 1 + random.below(Math.max(1, data.length / 3));
    client.send(data.subarray(at, at + size));
    at += size;
    await turn();
  }
}

const SHAPES = ['GET ', 'V2 ', 'KEYS', 'PUT ', 'NEGOTIATE V2', ' ', '\t', '\r', '0', '7', 'a', 'f', 'g', 'é', '\u0000', '='];

function mutatedLine(random: Random): string {
  const codes = ['GET', 'KEYS', 'PUT', 'DELETE', 'FROB', 'get'] as const;
  const reqid = random.below(0x100000000).toString(16).padStart(8, '0');
  const code = random.pick(codes);
  // Changes go to keys of their own: the probe's key must stay.
  const key = code === 'GET' ? random.pick(['num', 'user-script', 'sdc:uuid', 'nosuch']) : `fuzz-${random.below(8)}`;
  let line = code === 'PUT' ? encodeRequest('PUT', reqid, key, `v${random.below(1000)}`) : frameLine(`${reqid} ${code} ${Buffer.from(key).toString('base64')}`);
  line = line.replace(/\n$/, '');
  for (let n = random.below(4); n > 0; n--) {
    const at = random.below(line.length + 1);
    const how = random.below(3);
    const piece = random.pick(SHAPES);
    if (how === 0) line = line.slice(0, at) + piece + line.slice(at);
    else if (how === 1) line = line.slice(0, at) + line.slice(at + 1 + random.below(5));
    else line = line.slice(0, at) + piece + line.slice(at + piece.length);
  }
  return `${line}\n`;
}

function longLine(random: Random): string {
  const size = random.pick([1000, 50_000, 300_000, MAX_LINE - 10, MAX_LINE + 1000]);
  const shapes = [
    () => `GET ${' '.repeat(size)}x`,
    () => `V2 ${'7'.repeat(size)}`,
    () => `V2 ${' '.repeat(size)}1x`,
    () => frameLine(`0a1b2c3d PUT ${'QUFB'.repeat(size / 4)}`).replace(/\n$/, ''),
    () => `V2 ${size} 00000000 0a1b2c3d ${'X'.repeat(size)}`,
  ];
  return `${random.pick(shapes)()}\n`;
}

/** One hostile connection doing one random thing; resolves when it is done with it. */
async function hostileRound(path: string, random: Random, deadline: number): Promise<void> {
  const client = await Client.connect(path);
  const action = random.below(7);
  try {
    if (action === 0) {
      // Mutated frames and lines, pipelined, in random pieces.
      const lines = Array.from({ length: 1 + random.below(50) }, () => mutatedLine(random)).join('');
      await writeInPieces(client, Buffer.from(lines), random);
      await client.until(() => false, 200);
    } else if (action === 1) {
      // One long or over-long line, whole or in pieces.
      const line = Buffer.from(longLine(random));
      if (random.below(2)) client.send(line);
      else await writeInPieces(client, line, random);
      await client.until(() => false, 300);
    } else if (action === 2) {
      // Binary junk with a few LFs.
      await writeInPieces(client, random.bytes(1 + random.below(100_000)), random);
    } else if (action === 3) {
      // Half-close after some lines and a partial one: answers come, then the server ends too.
      client.send(`${mutatedLine(random)}GET num\nGET nu`);
      client.socket.end();
      const text = await client.until(() => client.ended, PROBE_LIMIT_MS);
      assert.ok(client.ended, 'the server ended a half-closed connection after its answers');
      assert.ok(text.endsWith(NUM), `answers before the end: ${JSON.stringify(text.slice(-40))}`);
    } else if (action === 4) {
      // Cut in the middle of a line.
      client.send(longLine(random).slice(0, 1 + random.below(20_000)));
      await sleep(random.below(100));
    } else if (action === 5) {
      // Ask for big answers (a FAILURE that echoes a long code) and never read them.
      client.socket.pause();
      client.send(frameLine(`0a1b2c3d ${'X'.repeat(200_000)}`).repeat(1 + random.below(20)));
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    } else {
      // Bytes one write at a time.
      for (const byte of Buffer.from(mutatedLine(random))) {
        client.send(Buffer.from([byte]));
        await turn();
      }
      await client.until(() => false, 100);
    }
  } finally {
    client.close();
  }
}

/** Sends `GET num` every 50 ms until `deadline`; returns each answer's time in ms. */
async function probe(path: string, deadline: number): Promise<number[]> {
  const client = await Client.connect(path);
  const times: number[] = [];
  while (Date.now() < deadline) {
    const started = Date.now();
    assert.is(await client.ask('GET num\n', NUM, PROBE_LIMIT_MS), NUM, `${path}: probe ${times.length} not answered within ${PROBE_LIMIT_MS} ms`);
    times.push(Date.now() - started);
    await sleep(50);
  }
  client.close();
  return times;
}

test(`fuzz for ${FUZZ_MS / 1000} s, ${WORKERS} hostile connections to one zone: probes in it and in another zone are served, memory stays bounded (seed ${SEED})`, async () => {
  const root = join(WORK, 'zones');
  for (const zone of ['hostile', 'other']) {
    mkdirSync(join(root, zone, 'config'), { recursive: true });
    copyFileSync(join(repoRoot, 'test', 'fixtures', 'server', 'metadata.json'), join(root, zone, 'config', 'metadata.json'));
  }
  const socket = (zone: string) => join(root, zone, 'metadata.sock');
  const server = await startServer(['--zones-root', root, '--max-line', String(MAX_LINE)]);
  const pid = server.child.pid!;
  const before = memoryMiB(pid).rss;
  const deadline = Date.now() + FUZZ_MS;

  let rounds = 0;
  const workers = Array.from({ length: WORKERS }, async (_, i) => {
    const random = new Random(SEED + i);
    while (Date.now() < deadline) {
      await hostileRound(socket('hostile'), random, deadline);
      rounds++;
    }
  });
  const [sameZone, otherZone] = await Promise.all([probe(socket('hostile'), deadline), probe(socket('other'), deadline), ...workers]);
  const memory = memoryMiB(pid);

  const slowest = Math.max(...sameZone, ...otherZone);
  console.log(`  ${rounds} hostile rounds; ${sameZone.length} + ${otherZone.length} probes, slowest ${slowest} ms; server RSS ${before.toFixed(0)} -> peak ${memory.peak.toFixed(0)} MiB; ${server.stderrBytes()} bytes of log`);
  assert.ok(sameZone.length >= MIN_PROBES && otherZone.length >= MIN_PROBES, `${sameZone.length} and ${otherZone.length} probes`);
  assert.ok(slowest < PROBE_LIMIT_MS, `a probe waited ${slowest} ms`);
  assert.ok(memory.peak - before < 200, `server peak grew by ${(memory.peak - before).toFixed(0)} MiB`);
  assert.ok(server.stderrBytes() < 256 * 1024, `${server.stderrBytes()} bytes of log`);
  for (const zone of ['hostile', 'other']) JSON.parse(readFileSync(join(root, zone, 'config', 'metadata.json'), 'utf8'));
  const stopping = Date.now();
  assert.is(await stopServer(server), 0);
  assert.ok(Date.now() - stopping < 5000, 'stopped promptly on SIGTERM');
});

test.after(() => {
  killServers();
  rmSync(WORK, { recursive: true, force: true });
});

test.run();
