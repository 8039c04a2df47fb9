// Every negotiation dialect, with stale input in flight at each reset, end to end: the node
// bundles and the real Linux executable, over a unix socket and over a socat pty.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bridgePty, stop } from '../support/processes';
import { bundleCommand, linuxExecutableCommand, runTool, type ToolCommand } from '../support/run-tool';
import { ScriptedHost, STALE_INPUT, type Dialect, type ScriptedHostOptions } from '../support/scripted-host';

const values = { 'user-script': '#!/bin/sh\necho hi\n', plain: 'value' };
const BUILDS: Array<[string, ToolCommand]> = [
  ['bundle', bundleCommand],
  ['executable', linuxExecutableCommand],
];
const DIALECTS: Dialect[] = ['V2_OK', 'FAILURE', 'invalid command', 'WHAT?'];

interface Endpoint {
  name: string;
  env: Record<string, string>;
}

/** A scripted host reached over its socket and over a pty bridged to it. */
async function withEndpoints(options: ScriptedHostOptions, fn: (endpoints: Endpoint[], host: ScriptedHost) => Promise<void>): Promise<void> {
  const host = await new ScriptedHost({ values, ...options }).listen();
  const device = join(host.dir, 'ttyS1');
  const bridge = await bridgePty(device, host.path);
  try {
    await fn(
      [
        { name: 'socket', env: { MDATA_SOCKET: host.path } },
        { name: 'pty', env: { MDATA_SERIAL: device } },
      ],
      host,
    );
  } finally {
    await stop(bridge);
    await host.close();
  }
}

for (const dialect of DIALECTS) {
  test(`NEGOTIATE answered ${JSON.stringify(dialect)}: mdata-get works at once with any stale input`, async () => {
    for (const [staleName, stale] of Object.entries(STALE_INPUT)) {
      await withEndpoints({ dialect, staleBeforeReset: stale }, async (endpoints, host) => {
        for (const endpoint of endpoints) {
          for (const [build, command] of BUILDS) {
            const what = `${build} over ${endpoint.name}, stale: ${staleName}`;
            const before = host.lines;
            const r = await runTool(command, 'mdata-get', ['--timeout', '20', 'user-script'], { env: endpoint.env });
            assert.is(r.stderr, '', what);
            assert.is(r.code, 0, what);
            assert.is(r.stdout.toString(), '#!/bin/sh\necho hi\n', what);
            // The reset, the probe and the request: a negotiation that timed out would have
            // started a new session, which the host would have seen as more lines.
            assert.is(host.lines - before, 3, `${what}: lines the host received`);
          }
        }
      });
    }
  });
}

test('a host that ignores the first reset: the tools reset again within the budget', () =>
  withEndpoints({ ignoreFirstLines: 2 }, async (endpoints) => {
    for (const endpoint of endpoints) {
      const r = await runTool(bundleCommand, 'mdata-get', ['--timeout', '20', 'plain'], { env: endpoint.env });
      assert.is(r.code, 0, `${endpoint.name}: ${r.stderr}`);
      assert.is(r.stdout.toString(), 'value\n');
    }
  }),
);

for (const dialect of ['FAILURE', 'invalid command'] as const) {
  test(`a V1 host answering ${JSON.stringify(dialect)}: list works, put and delete refuse with exit 2`, () =>
    withEndpoints({ dialect }, async (endpoints) => {
      for (const endpoint of endpoints) {
        for (const [build, command] of BUILDS) {
          const what = `${build} over ${endpoint.name}`;
          const list = await runTool(command, 'mdata-list', [], { env: endpoint.env });
          assert.is(list.code, 0, `${what}: ${list.stderr}`);
          assert.is(list.stdout.toString(), 'user-script\nplain\n');
          const put = await runTool(command, 'mdata-put', ['k', 'v'], { env: endpoint.env });
          assert.is(put.stderr, 'ERROR: host does not support PUT\n', what);
          assert.is(put.code, 2);
          const del = await runTool(command, 'mdata-delete', ['k'], { env: endpoint.env });
          assert.is(del.stderr, 'ERROR: host does not support DELETE\n', what);
          assert.is(del.code, 2);
        }
      }
    }));
}

test('a V1 GET answered `invalid command` or FAILURE gets the C texts and exit 2', async () => {
  for (const [answer, stderr] of [
    ['invalid command', 'ERROR: host does not support GET\n'],
    ['FAILURE', "Error getting metadata for key 'plain': FAILURE\n"],
  ]) {
    await withEndpoints({ dialect: 'FAILURE', v1GetAnswer: answer }, async (endpoints) => {
      for (const endpoint of endpoints) {
        for (const [build, command] of BUILDS) {
          const r = await runTool(command, 'mdata-get', ['plain'], { env: endpoint.env });
          assert.is(r.stderr, stderr, `${build} over ${endpoint.name}`);
          assert.is(r.code, 2);
        }
      }
    });
  }
});

test.run();
