import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetadataHost } from './metadata-host';
import { runTool, type ToolCommand } from './run-tool';

const fixtures = join(__dirname, '..', 'fixtures');
const ONE_MIB = Buffer.concat([Buffer.alloc(1024 * 1024 - 1, 'abcdefghijklmnopqrstuvwxyz0123456789\n'), Buffer.from('\n')]);

/**
 * The protocol scenario list, run against a real mdata-server over a unix socket or over a
 * socat pty, with whichever build of the tools `command` starts.
 */
export function scenarioSuite(name: string, command: ToolCommand, pty: boolean): void {
  const s = suite(name);
  let started: Promise<MetadataHost> | null = null;
  const host = () => (started ??= new MetadataHost(join(fixtures, 'scenario-metadata.json'), join(fixtures, 'scenario-vm.json')).start(pty));
  const run = async (tool: string, args: string[], input?: Buffer | string) => runTool(command, tool, args, { env: (await host()).env(pty), input });
  const expectOk = async (tool: string, args: string[], stdout: string | Buffer, input?: Buffer | string) => {
    const r = await run(tool, args, input);
    assert.is(r.stderr, '');
    assert.is(r.code, 0);
    if (typeof stdout === 'string') assert.is(r.stdout.toString('utf8'), stdout);
    else assert.ok(r.stdout.equals(stdout), `stdout differs (${r.stdout.length} bytes vs ${stdout.length})`);
  };
  const expectFail = async (tool: string, args: string[], code: number, stderr: string) => {
    const r = await run(tool, args);
    assert.is(r.stderr, stderr);
    assert.is(r.code, code);
    assert.is(r.stdout.length, 0);
  };

  s.after(async () => {
    if (started) await (await started).close();
  });

  s('get a value that ends in a newline', () => expectOk('mdata-get', ['user-script'], '#!/bin/sh\necho hi\n'));
  s('get adds a newline to a value without one', () => expectOk('mdata-get', ['no-newline'], 'abc\n'));
  s('get an empty value prints one newline', () => expectOk('mdata-get', ['empty'], '\n'));
  s('get a dot-stuffed value', () => expectOk('mdata-get', ['dotty'], '.leading dot\n..two dots\nplain\n'));
  s('get UTF-8', () => expectOk('mdata-get', ['utf8'], 'café ☕ ünïcödé\n'));
  s('get a key with spaces', () => expectOk('mdata-get', ['key with spaces'], 'spaced value\n'));
  s('get a _pw key from internal metadata', () => expectOk('mdata-get', ['root_pw'], 'secret\n'));
  s('not found: exit 1', () => expectFail('mdata-get', ['nosuch'], 1, "No metadata for 'nosuch'\n"));
  s('sdc: keys', async () => {
    await expectOk('mdata-get', ['sdc:uuid'], '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f\n');
    await expectOk('mdata-get', ['sdc:nics.0.ip'], '10.0.0.5\n');
    await expectOk('mdata-get', ['sdc:resolvers'], '["8.8.8.8","8.8.4.4"]\n');
    await expectOk('mdata-get', ['sdc:operator-script'], '#!/bin/sh\necho operator\n');
    await expectFail('mdata-get', ['sdc:nosuch'], 1, "No metadata for 'sdc:nosuch'\n");
  });
  s('an empty key is an error, not a hang', () => expectFail('mdata-get', [''], 2, "Error getting metadata for key '': Invalid GET Request\n"));
  s('list', () => expectOk('mdata-list', [], 'user-script\nno-newline\nempty\nutf8\nkey with spaces\ndotty\nroot_authorized_keys\nroot_pw\n'));
  s('put from argv, then get', async () => {
    await expectOk('mdata-put', ['argv-key', 'from argv'], '');
    await expectOk('mdata-get', ['argv-key'], 'from argv\n');
  });
  s('put from stdin keeps the bytes exactly', async () => {
    await expectOk('mdata-put', ['stdin-key'], '', 'line1\nline2\n');
    await expectOk('mdata-get', ['stdin-key'], 'line1\nline2\n');
    await expectOk('mdata-put', ['stdin-key'], '', 'x');
    await expectOk('mdata-get', ['stdin-key'], 'x\n');
  });
  s('put and get 1 MiB', async () => {
    await expectOk('mdata-put', ['big'], '', ONE_MIB);
    await expectOk('mdata-get', ['big'], ONE_MIB);
  });
  s('put UTF-8 and a key with spaces', async () => {
    await expectOk('mdata-put', ['new spaced key', 'naïve ✓'], '');
    await expectOk('mdata-get', ['new spaced key'], 'naïve ✓\n');
  });
  s('put is persisted to the metadata file', async () => {
    await expectOk('mdata-put', ['persisted', 'yes'], '');
    const saved = JSON.parse(readFileSync((await host()).metadataFile, 'utf8'));
    assert.is(saved.customer_metadata.persisted, 'yes');
  });
  s('put on sdc: is refused', () => expectFail('mdata-put', ['sdc:alias', 'x'], 2, "Error putting metadata for key 'sdc:alias': Cannot update the \"sdc\" Namespace.\n"));
  s('delete, then the key is gone', async () => {
    await expectOk('mdata-put', ['doomed', 'soon gone'], '');
    await expectOk('mdata-delete', ['doomed'], '');
    await expectFail('mdata-get', ['doomed'], 1, "No metadata for 'doomed'\n");
    await expectOk('mdata-delete', ['never-existed'], '');
  });
  s('usage errors: exit 3 without contacting the host', async () => {
    for (const tool of ['mdata-get', 'mdata-put', 'mdata-delete']) {
      const r = await runTool(command, tool, [], { env: { MDATA_SOCKET: '/nonexistent' } });
      assert.is(r.code, 3);
      assert.match(r.stderr, new RegExp(`^${tool}: Usage: \\S*${tool}\\S* <keyname>`));
    }
  });
  s.run();
}
