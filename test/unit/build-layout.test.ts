// build/layout.ts takes the answer files' paths and the runtime's names without rendering the
// files or loading the installer: the lists it uses must be the ones the makers use.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerFilePaths, answerFiles } from '../../build/answer-files';
import { RUNTIME_FILES, RUNTIME_LIBRARIES, WINDOWS_FILES } from '../../build/layout';
import * as installRuntime from '../../lib/install/runtime';
import { LOADER, REQUIREMENTS } from '../../lib/platform/runtime-names';

test('answerFilePaths() lists exactly the files answerFiles() makes, in its order', () => {
  assert.equal(answerFilePaths(), Object.keys(answerFiles()));
  for (const path of answerFilePaths()) assert.ok(WINDOWS_FILES.includes(path), `${path} is shipped`);
});

test('the installer and the build name the runtime files alike', () => {
  assert.is(installRuntime.LOADER, LOADER);
  assert.is(installRuntime.REQUIREMENTS, REQUIREMENTS);
  assert.ok(RUNTIME_LIBRARIES.includes(LOADER));
  assert.ok(RUNTIME_FILES.includes(REQUIREMENTS));
});

test.run();
