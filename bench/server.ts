// mdata-server throughput (GET/s) and p99 latency with 100 concurrent clients, each on its own
// connection over a loopback unix socket, sending one V2 GET at a time. Median of several runs.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, encodeRequest } from '../lib/protocol/v2';
import { withTimeLimit } from '../lib/time-limit';
import { startUntil, stop } from '../test/support/processes';
import { median } from './timing';

const CLIENTS = 100;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 2000);
const MAX_REQUESTS_PER_CLIENT = 100_000;
const root = join(__dirname, '..');
const fixtures = join(root, 'test', 'fixtures', 'server');

async function startServer(dir: string): Promise<ChildProcess> {
  const bundle = join(root, 'dist', 'node', 'mdata-server.cjs');
  const entry = existsSync(bundle) ? [bundle] : ['-r', 'tsm', join(root, 'cmd', 'mdata-server.ts')];
  copyFileSync(join(fixtures, 'metadata.json'), join(dir, 'metadata.json'));
  const args = [...entry, '--socket', join(dir, 's.sock'), '--metadata', join(dir, 'metadata.json'), '--vm', join(fixtures, 'vm.json'), '--quiet'];
  return (await startUntil(process.execPath, args, /listening on/)).child;
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One client: GET user-script in a loop until the deadline; returns each request's latency in ms. */
function hammer(socket: Socket, index: number, deadline: number): Promise<number[]> {
  const reqid = (0xb0000 + index).toString(16).padStart(8, '0');
  const request = encodeRequest('GET', reqid, 'user-script');
  const expected = encodeFrame(reqid, 'SUCCESS', '#!/bin/sh\necho hi\n');
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    let buffer = '';
    let sentAt = 0n;
    const send = () => {
      sentAt = process.hrtime.bigint();
      socket.write(request);
    };
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      if (!buffer.endsWith('\n')) return;
      if (buffer !== expected) return reject(new Error(`unexpected reply ${JSON.stringify(buffer)}`));
      buffer = '';
      latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      if (Date.now() < deadline && latencies.length < MAX_REQUESTS_PER_CLIENT) send();
      else resolve(latencies);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed before the run ended')));
    send();
  });
}

async function run(path: string): Promise<{ perSecond: number; p50: number; p99: number }> {
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => connect(path)));
  const started = Date.now();
  const clients = Promise.all(sockets.map((s, i) => hammer(s, i, started + RUN_MS)));
  const all = (await withTimeLimit(clients, RUN_MS + 10_000, () => {
    throw new Error('clients still waiting for replies 10 s after the run');
  })).flat();
  const elapsed = (Date.now() - started) / 1000;
  sockets.forEach((s) => s.destroy());
  all.sort((a, b) => a - b);
  return { perSecond: all.length / elapsed, p50: all[Math.floor(all.length * 0.5)], p99: all[Math.floor(all.length * 0.99)] };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mdata-bench-'));
  const server = await startServer(dir);
  try {
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await run(join(dir, 's.sock')));
    const fmt = (n: number) => n.toFixed(2);
    console.log(`mdata-server, ${CLIENTS} concurrent clients, ${RUNS} runs of ${RUN_MS} ms:`);
    console.log(`  runs GET/s: ${results.map((r) => Math.round(r.perSecond)).join(' ')}`);
    console.log(`  median GET/s: ${Math.round(median(results.map((r) => r.perSecond)))}`);
    console.log(`  median p50 latency: ${fmt(median(results.map((r) => r.p50)))} ms`);
    console.log(`  median p99 latency: ${fmt(median(results.map((r) => r.p99)))} ms`);
  } finally {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/server: ${err.message}`);
  process.exit(1);
});
