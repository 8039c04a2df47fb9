import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCases, NETWORK_FIXTURES, OUTPUTS, planOf, renderOutput } from '../support/network-cases';

// Every renderer over every fixture, against reviewed files in test/fixtures/network/golden/CASE/OUTPUT/.
// UPDATE_GOLDEN=1 rewrites them (then read the diff before committing).
const GOLDEN = join(NETWORK_FIXTURES, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function listFiles(dir: string, prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}/${e.name}`) : [`${prefix}/${e.name}`])).sort();
}

for (const c of loadCases()) {
  const { plan, problems, notes } = planOf(c);
  test(`${c.name}: reported problems and notes`, () => {
    const path = join(GOLDEN, c.name, 'problems.txt');
    const actual = [...problems.map((p) => `problem: ${p}`), ...notes.map((n) => `note: ${n}`)].join('\n') + '\n';
    if (update) writeFileSync(path, actual);
    assert.fixture(actual, readFileSync(path, 'utf8'));
  });
  for (const output of OUTPUTS) {
    test(`${c.name}: ${output}`, () => {
      const dir = join(GOLDEN, c.name, output);
      const files = renderOutput(output, plan);
      if (update) {
        rmSync(dir, { recursive: true, force: true });
        for (const f of files) {
          mkdirSync(dirname(join(dir, f.path)), { recursive: true });
          writeFileSync(join(dir, f.path), f.content);
        }
      }
      assert.equal(files.map((f) => f.path).sort(), listFiles(dir), 'the same files');
      for (const f of files) assert.fixture(f.content, readFileSync(join(dir, f.path), 'utf8'), f.path);
    });
  }
}

test.run();
