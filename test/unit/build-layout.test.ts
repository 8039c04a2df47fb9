// build/layout.ts takes the answer files' paths and the runtime's names without rendering the
// files or loading the installer: the lists it uses must be the ones the makers use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerFilePaths, answerFiles } from '../../build/answer-files';
import { RUNTIME_FILES, RUNTIME_LIBRARIES, WINDOWS_FILES } from '../../build/layout';
import { LOADER, REQUIREMENTS } from '../../lib/install/runtime-names';

test('answerFilePaths() lists exactly the files answerFiles() makes, in its order', () => {
  assert.equal(answerFilePaths(), Object.keys(answerFiles()));
  for (const path of answerFilePaths()) assert.ok(WINDOWS_FILES.includes(path), `${path} is shipped`);
});

test('the launcher, the installer and the build name the runtime files alike', () => {
  assert.match(readFileSync(join(__dirname, '../../lib/native/launcher.c'), 'utf8'), `#define LOADER "${LOADER}"`);
  assert.match(readFileSync(join(__dirname, '../../docs/packaging.md'), 'utf8'), `linux/runtime/${REQUIREMENTS}`);
  assert.ok(RUNTIME_LIBRARIES.includes(LOADER));
  assert.ok(RUNTIME_FILES.includes(REQUIREMENTS));
});

test.run();
