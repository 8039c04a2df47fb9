// A full first `sdc-guest boot` (the Linux executable) against a prefix root and mdata-server over a
// pty, with recording stubs for the system commands, next to one `mdata-get KEY` over the same pty,
// in one run of interleaved runs. Target: the whole boot at most 2x one mdata-get. Also counts the
// metadata sessions a boot opens (NEGOTIATE lines on the wire), and times the floor under any boot:
// one mdata-get and the commands the boot ran (its `run:` lines), run one after another by sh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataHost } from '../test/support/metadata-host';
import { stop } from '../test/support/processes';
import { DEBIAN_GUEST, makeGuestRoot } from '../test/support/guest-root';
import { makeStubs } from '../test/support/stubs';
import { interleavedMedians } from './timing';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = join(__dirname, '..');
const executable = join(root, 'dist', 'linux-x64', 'sdc-guest');
const mdataGet = join(root, 'dist', 'linux-x64', 'mdata-get');

/**
 * A socat pty bridged to the server, as QEMU bridges a guest's second serial port, logging what
 * it carries (-v) to a file: each metadata session starts with a NEGOTIATE line. Its own process,
 * with no pipe to fill, because the timed runs block this one.
 */
async function loggedPty(device: string, socket: string, logFile: string): Promise<ChildProcess> {
  const log = openSync(logFile, 'w');
  const child = spawn('socat', ['-v', `PTY,raw,echo=0,ignoreeof,link=${device}`, `UNIX-CONNECT:${socket}`], { stdio: ['ignore', 'ignore', log] });
  closeSync(log);
  for (let i = 0; i < 100 && !existsSync(device); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!existsSync(device)) throw new Error('socat did not make the pty');
  return child;
}

/**
 * The boot's commands, run one after another as it ran them, except the arpings, which it starts
 * together: they run in the background and are waited for. Stops at the first that fails.
 */
function replayScript(reset: string, get: string, commandLines: string[]): string {
  const quiet = (c: string) => `${c} </dev/null >/dev/null 2>&1`;
  const lines = ['set -e', reset, quiet(get)];
  commandLines.forEach((c, i) => {
    const together = /^arping -[UA] /.test(c);
    lines.push(together ? `${quiet(c)} &` : quiet(c));
    if (together && !/^arping -[UA] /.test(commandLines[i + 1] ?? '')) lines.push('wait');
  });
  return `${lines.join('\n')}\n`;
}

const sessionsIn = (logFile: string) => readFileSync(logFile, 'latin1').split('NEGOTIATE V2').length - 1;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-boot-'));
  const template = makeGuestRoot(DEBIAN_GUEST, work);
  const guest = join(work, 'guest');
  const metadata = join(work, 'metadata.json');
  const vm = join(work, 'vm.json');
  writeFileSync(metadata, JSON.stringify({
    customer_metadata: { root_authorized_keys: 'ssh-ed25519 AAAA k\n', hostname: 'web01', 'user-data': 'data\n', 'user-script': '#!/bin/sh\ntrue\n' },
    internal_metadata: { root_pw: 'secret', 'operator-script': 'true' },
  }));
  writeFileSync(vm, JSON.stringify({ uuid: '12345678-aaaa-bbbb-cccc-1234567890ab', nics: [{ interface: 'net0', mac: '90:b8:d0:00:00:01', ips: ['10.88.88.10/24'], gateways: ['10.88.88.1'], primary: true }], resolvers: ['8.8.8.8'] }));
  const stubs = makeStubs({
    ip: { script: `case "$*" in *route*) printf '[{"dst":"default","dev":"eth0"}]';; *addr*) printf '[{"addr_info":[{"family":"inet","local":"10.88.88.10"}]}]';; esac` },
    ifup: 0, ifdown: 0, chpasswd: 0, hostnamectl: 0, restorecon: 0, logger: 0, arping: { stdout: 'iputils' },
  });
  const host = await new MetadataHost(metadata, vm).start(false);
  const device = join(work, 'ttyS1');
  const wire = join(work, 'wire.log');
  const bridge = await loggedPty(device, host.socket, wire);
  try {
    const env = { MDATA_SERIAL: device, PATH: `${stubs.path}:${process.env.PATH}` };
    // Each boot starts from the fixture root again, and with an empty call log (every stub reads it
    // whole to number its calls, so a growing one would slow the stubs run by run); the copy's own
    // cost is measured alone.
    const calls = join(stubs.path, 'calls.log');
    const fresh = `: > '${calls}' && rm -rf '${guest}' && cp -a '${template}' '${guest}'`;
    const sessionsBefore = sessionsIn(wire);
    const once = spawnSync('sh', ['-c', `${fresh} && exec '${executable}' boot --root '${guest}' --live`], { env, encoding: 'utf8', timeout: 60_000 });
    if (once.status !== 0) throw new Error(`sdc-guest boot exited ${once.status}: ${once.stderr}`);
    const sessionsPerBoot = sessionsIn(wire) - sessionsBefore;
    // The scripts the boot ran stay where it wrote them: a copy of that root outlives the next fresh one.
    const replayRoot = join(work, 'replay-root');
    if (spawnSync('cp', ['-a', guest, replayRoot], { timeout: 60_000 }).status !== 0) throw new Error('could not copy the booted root');
    const commandLines = [...once.stderr.matchAll(/: run: (.*)$/gm)].map((m) => m[1].split(guest).join(replayRoot));
    const replay = join(work, 'replay.sh');
    writeFileSync(replay, replayScript(`: > '${calls}'`, `'${mdataGet}' user-data`, commandLines));
    const check = spawnSync('sh', [replay], { env, encoding: 'utf8', timeout: 60_000 });
    if (check.status !== 0) throw new Error(`the floor's replay failed (exit ${check.status})`);
    const commands = [
      { name: 'mdata-get user-data, pty', file: 'sh', args: ['-c', `exec '${mdataGet}' user-data`], env },
      { name: 'first boot, pty', file: 'sh', args: ['-c', `${fresh} && exec '${executable}' boot --root '${guest}' --live`], env },
      { name: 'copying the root alone', file: 'sh', args: ['-c', fresh], env },
      { name: 'floor', file: 'sh', args: [replay], env },
    ];
    const [get, boot, copy, floor] = interleavedMedians(commands, RUNS);
    const bootOnly = boot - copy;
    console.log(`first boot vs one mdata-get, Linux executable over a pty, ${RUNS} interleaved runs, median wall time:`);
    console.log(`  ${commands[0].name.padEnd(28)} ${get.toFixed(1).padStart(7)} ms`);
    console.log(`  ${'first boot (copy subtracted)'.padEnd(28)} ${bootOnly.toFixed(1).padStart(7)} ms  ${(bootOnly / get).toFixed(2)}x mdata-get (target <= 2x)`);
    console.log(`  ${`floor: mdata-get + ${commandLines.length} cmds`.padEnd(28)} ${floor.toFixed(1).padStart(7)} ms  ${(floor / get).toFixed(2)}x mdata-get (the same commands run by sh)`);
    console.log(`  metadata sessions per boot: ${sessionsPerBoot} (mdata-get: 1)`);
  } finally {
    await stop(bridge);
    await host.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/boot: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
