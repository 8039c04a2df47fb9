// test/run.ts must not report success unless every declared test passed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(__dirname, '..', '..');

function runner(files: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['-r', 'tsm', 'test/run.ts', 'unit', ...files.map((f) => (f.startsWith('/') ? `${f}.ts` : `test/fixtures/runner/${f}.ts`))], {
    cwd: root,
    env: { ...process.env, SDC_TEST_NO_SKIP: undefined, UPDATE_GOLDEN: undefined, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, last, stdout: r.stdout, stderr: r.stderr };
}

test('a before hook that throws fails the run with every test counted failed', () => {
  const r = runner(['before-throws']);
  assert.is(r.status, 1);
  assert.match(r.last, /^0 passed, 2 failed, 0 skipped/);
  assert.match(r.stdout, /FAILED test\/fixtures\/runner\/before-throws\.ts: 2 of 2 did not pass/);
});

test('a file that exits before its summary fails the run', () => {
  const r = runner(['crashes']);
  assert.is(r.status, 1);
  assert.match(r.last, /^0 passed, 1 failed, 0 skipped/);
  assert.match(r.stdout, /no test summary \(exit 7\)/);
});

test('skipped tests are counted as skipped, not passed', () => {
  const r = runner(['skips']);
  assert.is(r.status, 0, r.stdout);
  assert.match(r.last, /^2 passed, 0 failed, 2 skipped/);
});

test('with SDC_TEST_NO_SKIP=1 a run-time skip and a test.skip are failures', () => {
  const r = runner(['skips'], { SDC_TEST_NO_SKIP: '1' });
  assert.is(r.status, 1);
  assert.match(r.last, /^2 passed, 2 failed, 0 skipped/);
  assert.match(r.stdout, /1 test\(s\) skipped with test\.skip, and SDC_TEST_NO_SKIP=1/);
});

test('UPDATE_GOLDEN=1 with SDC_TEST_NO_SKIP=1 is refused in one line, before any file runs', () => {
  const r = runner(['skips'], { SDC_TEST_NO_SKIP: '1', UPDATE_GOLDEN: '1' });
  assert.is(r.status, 3);
  assert.is(r.stderr, 'test/run.ts: UPDATE_GOLDEN=1 rewrites the golden files, so their tests cannot fail: not with SDC_TEST_NO_SKIP=1\n');
  assert.is(r.stdout, '', 'no file ran');
});

test('a file named by its absolute path, with more output than the runner keeps, is counted whole', () => {
  const r = runner([join(root, 'test/fixtures/runner/noisy')]);
  assert.is(r.status, 0, r.last);
  assert.match(r.last, /^1 passed, 0 failed, 1 skipped/);
});

test.run();
