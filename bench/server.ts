// mdata-server throughput (GET/s), p50/p99 GET latency and the server's peak RSS, over a loopback
// unix socket. Each client has its own connection and sends one V2 request at a time. Scenarios:
// 100 and 500 clients sending only GETs, and 500 clients of which every 10th request is a PUT.
// Every scenario gets a fresh server, so its peak RSS (VmHWM) belongs to that scenario alone.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, encodeRequest } from '../lib/protocol/v2';
import { withTimeLimit } from '../lib/time-limit';
import { memoryMiB } from '../test/support/mdata-server';
import { startUntil, stop } from '../test/support/processes';
import { bundleCommand } from '../test/support/run-tool';
import { median } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 2000);
const MAX_REQUESTS_PER_CLIENT = 100_000;
const root = join(__dirname, '..');
const fixtures = join(root, 'test', 'fixtures', 'server');

interface Scenario {
  name: string;
  clients: number;
  /** Every `putEvery`-th request of a client is a PUT (0: GETs only). */
  putEvery: number;
}

const SCENARIOS: Scenario[] = [
  { name: '100 clients, GET only', clients: 100, putEvery: 0 },
  { name: '500 clients, GET only', clients: 500, putEvery: 0 },
  { name: '500 clients, 10% PUT', clients: 500, putEvery: 10 },
];

async function startServer(dir: string, clients: number): Promise<ChildProcess> {
  copyFileSync(join(fixtures, 'metadata.json'), join(dir, 'metadata.json'));
  const { file, args } = bundleCommand('mdata-server');
  args.push('--socket', join(dir, 's.sock'), '--metadata', join(dir, 'metadata.json'), '--vm', join(fixtures, 'vm.json'), '--quiet', '--max-connections', String(clients));
  return (await startUntil(file, args, /listening on/)).child;
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One client: GET user-script (or PUT its own key) in a loop until the deadline; returns each GET's latency in ms. */
function hammer(socket: Socket, index: number, deadline: number, putEvery: number): Promise<number[]> {
  const reqid = (0xb0000 + index).toString(16).padStart(8, '0');
  const get = encodeRequest('GET', reqid, 'user-script');
  const put = encodeRequest('PUT', reqid, `bench-${index}`, `value of client ${index}`);
  const replies = { get: encodeFrame(reqid, 'SUCCESS', '#!/bin/sh\necho hi\n'), put: encodeFrame(reqid, 'SUCCESS', 'OK') };
  const latencies: number[] = [];
  let sent = 0;
  return new Promise((resolve, reject) => {
    let buffer = '';
    let sentAt = 0n;
    let isPut = false;
    const send = () => {
      isPut = putEvery > 0 && ++sent % putEvery === 0;
      sentAt = process.hrtime.bigint();
      socket.write(isPut ? put : get);
    };
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      if (!buffer.endsWith('\n')) return;
      const expected = isPut ? replies.put : replies.get;
      if (buffer !== expected) return reject(new Error(`unexpected reply ${JSON.stringify(buffer.slice(0, 200))}`));
      buffer = '';
      if (!isPut) latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      if (Date.now() < deadline && sent < MAX_REQUESTS_PER_CLIENT) send();
      else resolve(latencies);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed before the run ended')));
    send();
  });
}

async function run(path: string, scenario: Scenario): Promise<{ perSecond: number; p50: number; p99: number }> {
  const sockets = await Promise.all(Array.from({ length: scenario.clients }, () => connect(path)));
  const started = Date.now();
  const clients = Promise.all(sockets.map((s, i) => hammer(s, i, started + RUN_MS, scenario.putEvery)));
  const all = (await withTimeLimit(clients, RUN_MS + 10_000, () => {
    throw new Error('clients still waiting for replies 10 s after the run');
  })).flat();
  const elapsed = (Date.now() - started) / 1000;
  sockets.forEach((s) => s.destroy());
  all.sort((a, b) => a - b);
  return { perSecond: all.length / elapsed, p50: all[Math.floor(all.length * 0.5)], p99: all[Math.floor(all.length * 0.99)] };
}

async function measure(scenario: Scenario): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mdata-bench-'));
  const server = await startServer(dir, scenario.clients);
  try {
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await run(join(dir, 's.sock'), scenario));
    const fmt = (n: number) => n.toFixed(2);
    console.log(`mdata-server, ${scenario.name}, ${RUNS} runs of ${RUN_MS} ms:`);
    console.log(`  runs GET/s: ${results.map((r) => Math.round(r.perSecond)).join(' ')}`);
    console.log(`  median GET/s: ${Math.round(median(results.map((r) => r.perSecond)))}`);
    console.log(`  median GET p50 latency: ${fmt(median(results.map((r) => r.p50)))} ms`);
    console.log(`  median GET p99 latency: ${fmt(median(results.map((r) => r.p99)))} ms`);
    console.log(`  server peak RSS: ${memoryMiB(server.pid!).peak.toFixed(1)} MiB`);
  } finally {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const scenario of SCENARIOS) await measure(scenario);
}

main().catch((err) => {
  console.error(`bench/server: ${err.message}`);
  process.exit(1);
});
