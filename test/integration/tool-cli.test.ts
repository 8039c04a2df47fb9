import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VERSION } from '../../lib/version';
import { MetadataHost } from '../support/metadata-host';
import { bundleCommand, repoRoot, runTool } from '../support/run-tool';

const TOOLS = ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete'];

test('--help describes usage, the timeout and the exit codes', async () => {
  for (const tool of TOOLS) {
    const r = await runTool(bundleCommand, tool, ['--help']);
    assert.is(r.code, 0);
    const text = r.stdout.toString();
    assert.match(text, `Usage: ${tool} [--timeout SECONDS]`);
    assert.match(text, 'default 60; env MDATA_TIMEOUT');
    assert.match(text, '10 timed out');
  }
});

test('--version prints the package version', async () => {
  for (const tool of TOOLS) {
    const r = await runTool(bundleCommand, tool, ['--version']);
    assert.is(r.code, 0);
    assert.match(r.stdout.toString(), new RegExp(`^${tool} ${VERSION.replace(/\./g, '\\.')} \\(\\S+\\)\\n$`));
  }
});

test('a bad timeout is a usage error', async () => {
  for (const args of [['--timeout', 'soon', 'k'], ['--timeout=0', 'k'], ['--timeout'], ['--timeout', '9999999', 'k']]) {
    const r = await runTool(bundleCommand, 'mdata-get', args);
    assert.is(r.code, 3, args.join(' '));
  }
  const list = await runTool(bundleCommand, 'mdata-list', ['--timeout']);
  assert.is(list.code, 3);
  assert.is(list.stderr, "mdata-list: --timeout must be a number of seconds above 0 and at most 2147483, got ''\n");
  const env = await runTool(bundleCommand, 'mdata-get', ['k'], { env: { MDATA_TIMEOUT: '-1' } });
  assert.is(env.code, 3);
  assert.is(env.stderr, "mdata-get: MDATA_TIMEOUT must be a number of seconds above 0 and at most 2147483, got '-1'\n");
});

test('-- lets a key start with two dashes', async () => {
  const r = await runTool(bundleCommand, 'mdata-get', ['--timeout', '0.5', '--', '--help'], { env: { MDATA_SOCKET: '/nonexistent' } });
  assert.is(r.code, 10);
});

test('a key or option named like a built-in object property is only a name', async () => {
  const fixtures = join(__dirname, '..', 'fixtures', 'server');
  const host = await new MetadataHost(join(fixtures, 'metadata.json'), join(fixtures, 'vm.json')).start(false);
  try {
    for (const key of ['constructor', 'toString', '__proto__']) {
      const put = await runTool(bundleCommand, 'mdata-put', [key, `value of ${key}`], { env: host.env(false) });
      assert.is(put.code, 0, `${key}: ${put.stderr}`);
      const get = await runTool(bundleCommand, 'mdata-get', [key], { env: host.env(false) });
      assert.is(get.stdout.toString(), `value of ${key}\n`, key);
    }
  } finally {
    await host.close();
  }
  const guest = await runTool(bundleCommand, 'sdc-guest', ['status', 'toString']);
  assert.is(guest.code, 3);
  assert.match(guest.stderr, 'sdc-guest status: unknown option toString');
});

test('mdata-put refuses a terminal as stdin', () => {
  const script = [
    'import os, pty, subprocess, sys',
    'master, slave = pty.openpty()',
    'r = subprocess.run(sys.argv[1:], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)',
    'sys.stdout.write("%d|%s" % (r.returncode, r.stderr.decode()))',
  ].join('\n');
  const { file, args } = bundleCommand('mdata-put');
  const r = spawnSync('python3', ['-c', script, file, ...args, 'key'], { cwd: repoRoot, env: { ...process.env, MDATA_SOCKET: join(repoRoot, 'nonexistent.sock') }, timeout: 60_000 });
  assert.is(r.stdout.toString(), '2|ERROR: either specify the metadata value as the second command-line argument, or pipe content to stdin.\n');
});

test.run();
