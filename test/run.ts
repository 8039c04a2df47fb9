// Runs test files, each in its own process, and ends with one honest line: "N passed, N failed,
// N skipped". A file that crashes, exits non-zero, prints no uvu summary or runs fewer tests than it
// declares (uvu hides an error thrown in a `before` hook) counts as failed.
//
//   node -r tsm test/run.ts unit|integration|vm|all [FILE...]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import { SKIP_MARKER } from './support/skip';

const TIERS = ['unit', 'integration', 'vm'] as const;
const root = join(__dirname, '..');
/** A whole file may take this long before it is killed and counted as failed. */
const FILE_LIMIT_MS = 20 * 60_000;
/** uvu's summary is at the end: only this much of a file's output is kept to read it. */
const KEPT_OUTPUT = 64 * 1024;
const noSkips = process.env.SDC_TEST_NO_SKIP === '1';

interface FileResult {
  passed: number;
  failed: number;
  skipped: number;
  problem?: string;
}

function filesOf(tier: string): string[] {
  const dir = join(__dirname, tier);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** uvu's closing block, without colours: `Total: N`, `Passed: N`, `Skipped: N`. */
function summaryNumber(text: string, label: string): number | null {
  const m = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

function runFile(file: string): Promise<FileResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'tsm', file], { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let partial = '';
    let markedSkips = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString('latin1')).split('\n');
      partial = (lines.pop() as string).slice(-KEPT_OUTPUT);
      markedSkips += lines.filter((l) => l.includes(SKIP_MARKER)).length;
      out = (out + chunk.toString('latin1')).slice(-KEPT_OUTPUT);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), FILE_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const total = summaryNumber(out, 'Total');
      const passed = summaryNumber(out, 'Passed');
      const declaredSkips = summaryNumber(out, 'Skipped') ?? 0;
      if (total === null || passed === null) {
        return resolve({ passed: 0, failed: Math.max(1, total ?? 0), skipped: 0, problem: `no test summary (exit ${code ?? signal})` });
      }
      const failed = total - passed;
      const result: FileResult = { passed: passed - markedSkips, failed, skipped: declaredSkips + markedSkips };
      if (code !== 0 && failed === 0) return resolve({ ...result, failed: 1, problem: `exited ${code ?? signal} with every test passed` });
      if (failed > 0) result.problem = `${failed} of ${total} did not pass`;
      // test.skip in a file: with SDC_TEST_NO_SKIP=1 a skip fails, as skipTest's does.
      if (noSkips && declaredSkips > 0) return resolve({ ...result, failed: failed + declaredSkips, skipped: markedSkips, problem: `${declaredSkips} test(s) skipped with test.skip, and SDC_TEST_NO_SKIP=1` });
      resolve(result);
    });
  });
}

async function main(): Promise<void> {
  const [tier, ...given] = process.argv.slice(2);
  const tiers = tier === 'all' ? ['unit', 'integration'] : [tier];
  if (!tiers.every((t) => (TIERS as readonly string[]).includes(t))) {
    process.stderr.write(`usage: test/run.ts ${TIERS.join('|')}|all [FILE...]\n`);
    process.exit(3);
  }
  // Golden tests rewrite their files instead of comparing with UPDATE_GOLDEN=1: they cannot fail.
  if (noSkips && process.env.UPDATE_GOLDEN === '1') {
    process.stderr.write('test/run.ts: UPDATE_GOLDEN=1 rewrites the golden files, so their tests cannot fail: not with SDC_TEST_NO_SKIP=1\n');
    process.exit(3);
  }
  const files = given.length > 0 ? given.map((f) => resolvePath(root, f)) : tiers.flatMap(filesOf);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const problems: string[] = [];
  const started = Date.now();
  for (const file of files) {
    const name = relative(root, file);
    process.stdout.write(`\n== ${name}\n`);
    const r = await runFile(file);
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
    if (r.problem) problems.push(`${name}: ${r.problem}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(`\n${problems.map((p) => `FAILED ${p}\n`).join('')}`);
  process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped (${files.length} files, ${seconds} s)\n`);
  process.exitCode = totals.failed > 0 || files.length === 0 ? 1 : 0;
}

void main();
