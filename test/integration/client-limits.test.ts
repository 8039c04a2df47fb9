// A hostile or broken host must not crash or exhaust a client, and values the protocol cannot
// carry are refused up front: endless lines, endless V1 bodies, large values, a closed stdout,
// bytes that are not UTF-8.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withTimeLimit } from '../../lib/time-limit';
import { MetadataHost } from '../support/metadata-host';
import { bundleCommand, linuxExecutableCommand, runTool, type ToolCommand } from '../support/run-tool';
import { flood, ScriptedHost } from '../support/scripted-host';
import { join } from 'node:path';
import { repoRoot } from '../support/run-tool';

const MiB = 1024 * 1024;
const fixtures = join(repoRoot, 'test', 'fixtures');

/** Runs a tool while sampling its peak resident memory (VmHWM, kB) from /proc. */
async function runMeasured(command: ToolCommand, tool: string, args: string[], env: Record<string, string>) {
  let peakKb = 0;
  const started = runTool(command, tool, args, { env, killAfterMs: 60_000 });
  const sampler = setInterval(() => {
    for (const pid of pidsOf(tool)) {
      const m = /VmHWM:\s+(\d+)/.exec(safeRead(`/proc/${pid}/status`));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    }
  }, 20);
  const r = await started;
  clearInterval(sampler);
  return { ...r, peakMb: peakKb / 1024 };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Our child processes running `tool` (bundle or executable), found by their command line. */
function pidsOf(tool: string): string[] {
  const out: string[] = [];
  for (const pid of require('node:fs').readdirSync('/proc') as string[]) {
    if (/^\d+$/.test(pid) && safeRead(`/proc/${pid}/cmdline`).includes(tool) && safeRead(`/proc/${pid}/status`).includes(`PPid:\t${process.pid}\n`)) out.push(pid);
  }
  return out;
}

for (const [build, command] of [
  ['bundle', bundleCommand],
  ['executable', linuxExecutableCommand],
] as const) {
  test(`${build}: a host that sends bytes without a newline: exit 2, one line, bounded memory`, async () => {
    const chunk = 'x'.repeat(MiB);
    const host = await new ScriptedHost({
      respond: (_req, _correct, socket) => (flood(socket, chunk), null),
    }).listen();
    try {
      const r = await runMeasured(command, 'mdata-get', ['plain'], { MDATA_SOCKET: host.path });
      assert.is(r.code, 2, r.stderr);
      assert.is(r.stderr, 'ERROR: could not execute GET: the metadata service sent a line longer than 64 MiB\n');
      assert.ok(r.peakMb < 400, `peak RSS ${r.peakMb.toFixed(0)} MB`);
    } finally {
      await host.close();
    }
  });

  test(`${build}: a V1 body that never ends: exit 2, one line, bounded memory`, async () => {
    const lines = `${'y'.repeat(1000)}\n`.repeat(1000);
    const host = await new ScriptedHost({ dialect: 'FAILURE', v1GetAnswer: 'SUCCESS', afterV1Get: (socket) => flood(socket, lines) }).listen();
    try {
      const r = await runMeasured(command, 'mdata-get', ['plain'], { MDATA_SOCKET: host.path });
      assert.is(r.code, 2, r.stderr);
      assert.is(r.stderr, 'ERROR: could not execute GET: the metadata service sent a V1 reply longer than 64 MiB\n');
      assert.ok(r.peakMb < 600, `peak RSS ${r.peakMb.toFixed(0)} MB`);
    } finally {
      await host.close();
    }
  });
}

test('values of 1, 4, 8 and 32 MiB go through put and get unchanged', async () => {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(false, ['--max-line', String(64 * MiB)]);
  try {
    for (const size of [1, 4, 8, 32]) {
      const value = Buffer.from(randomBytes((size * MiB * 3) / 4).toString('base64'));
      const put = await runTool(bundleCommand, 'mdata-put', [`v${size}`], { env: host.env(false), input: value, killAfterMs: 120_000 });
      assert.is(put.code, 0, `${size} MiB put: ${put.stderr}`);
      const get = await runTool(bundleCommand, 'mdata-get', [`v${size}`], { env: host.env(false), killAfterMs: 120_000 });
      assert.is(get.code, 0, `${size} MiB get: ${get.stderr}`);
      assert.ok(get.stdout.equals(Buffer.concat([value, Buffer.from('\n')])), `${size} MiB value differs`);
    }
  } finally {
    await host.close();
  }
});

test('a reader that closes stdout early ends mdata-get quietly (status 141, like SIGPIPE)', async () => {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(false);
  try {
    const put = await runTool(bundleCommand, 'mdata-put', ['big'], { env: host.env(false), input: Buffer.alloc(2 * MiB, 'z') });
    assert.is(put.code, 0, put.stderr);
    for (const command of [bundleCommand, linuxExecutableCommand]) {
      const { file, args } = command('mdata-get');
      const child = spawn(file, [...args, 'big'], { env: { ...process.env, ...host.env(false) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      // Its first output, unless it exits (or 20 s pass) without any.
      const wrote = await withTimeLimit(
        new Promise<boolean>((resolve) => {
          child.stdout.once('data', () => resolve(true));
          child.once('close', () => resolve(false));
        }),
        20_000,
        () => {
          child.kill('SIGKILL');
          return false;
        },
      );
      assert.ok(wrote, `mdata-get wrote nothing to read (exit ${child.exitCode ?? child.signalCode ?? 'not yet'}): ${stderr}`);
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('close', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.is(stderr, '');
      assert.is(code, 141);
    }
  } finally {
    await host.close();
  }
});

// The tool's stdout: a pipe left in non-blocking mode (as a parent that shares it may leave it),
// read only once the tool has filled it. Prints what came through; exits with the tool's status.
const FULL_PIPE_READER = `
import array, fcntl, os, subprocess, sys, termios, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
queued = array.array('i', [0])
deadline = time.time() + 20
while queued[0] < 65536 and p.poll() is None and time.time() < deadline:
    time.sleep(0.01)
    fcntl.ioctl(r, termios.FIONREAD, queued)
if queued[0] < 65536:
    sys.exit('the tool never filled the pipe')
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
sys.stdout.buffer.flush()
sys.exit(p.wait())
`;

test('a full non-blocking stdout: mdata-get waits for the reader and every byte arrives', async () => {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(false);
  try {
    const value = Buffer.from(randomBytes(768 * 1024).toString('base64'));
    const put = await runTool(bundleCommand, 'mdata-put', ['big'], { env: host.env(false), input: value });
    assert.is(put.code, 0, put.stderr);
    for (const command of [bundleCommand, linuxExecutableCommand]) {
      const { file, args } = command('mdata-get');
      const r = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
        const env = { ...process.env, ...host.env(false) };
        execFile('python3', ['-c', FULL_PIPE_READER, file, ...args, 'big'], { env, encoding: 'buffer', maxBuffer: 8 * MiB, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr: stderr.toString() }),
        );
      });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stderr, '');
      assert.ok(r.stdout.equals(Buffer.concat([value, Buffer.from('\n')])), `${file}: the value differs (${r.stdout.length} bytes)`);
    }
  } finally {
    await host.close();
  }
});

test('mdata-put reads stdin up to the largest value a request can carry: endless input ends with exit 2, bounded memory', async () => {
  const { file, args } = bundleCommand('mdata-put');
  let peakKb = 0;
  const child = spawn(file, [...args, '--timeout', '30', 'endless'], { env: { ...process.env, MDATA_SOCKET: '/nonexistent/metadata.sock' }, stdio: [openSync('/dev/zero', 'r'), 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c));
  const sampler = setInterval(() => {
    const m = /VmHWM:\s+(\d+)/.exec(safeRead(`/proc/${child.pid}/status`));
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  }, 20);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  clearInterval(sampler);
  assert.is(code, 2);
  assert.is(stderr, 'ERROR: the value on stdin is larger than 36 MiB, more than a metadata request can carry\n');
  assert.ok(peakKb / 1024 < 300, `peak RSS ${(peakKb / 1024).toFixed(0)} MB`);
});

test('mdata-put refuses bytes that are not UTF-8, unless told to store them anyway', async () => {
  const host = await new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(false);
  try {
    for (const bad of [randomBytes(4096), Buffer.from([0x63, 0x61, 0x66, 0xe9])]) {
      const r = await runTool(bundleCommand, 'mdata-put', ['bin'], { env: host.env(false), input: bad });
      assert.is(r.code, 2);
      assert.is(r.stderr, 'ERROR: the value is not valid UTF-8, and the metadata service stores text; --allow-invalid-utf8 stores it with each bad byte replaced\n');
      const get = await runTool(bundleCommand, 'mdata-get', ['bin'], { env: host.env(false) });
      assert.is(get.code, 1, 'nothing was stored');
    }
    const forced = await runTool(bundleCommand, 'mdata-put', ['--allow-invalid-utf8', 'bin'], { env: host.env(false), input: Buffer.from([0x63, 0x61, 0x66, 0xe9]) });
    assert.is(forced.code, 0, forced.stderr);
    const get = await runTool(bundleCommand, 'mdata-get', ['bin'], { env: host.env(false) });
    assert.equal([...get.stdout], [0x63, 0x61, 0x66, 0xef, 0xbf, 0xbd, 0x0a]);
    const text = '\u0000tab\tcafé ☕ \u{1f600}\r\n';
    const ok = await runTool(bundleCommand, 'mdata-put', ['text'], { env: host.env(false), input: text });
    assert.is(ok.code, 0, ok.stderr);
    assert.is((await runTool(bundleCommand, 'mdata-get', ['text'], { env: host.env(false) })).stdout.toString(), text);
  } finally {
    await host.close();
  }
});

test.run();
