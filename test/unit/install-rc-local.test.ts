import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RC_LINE, withBootLine } from '../../lib/install/boot-hook';

test('a missing or blank rc.local becomes a shell script with our line', () => {
  for (const text of [null, '', '\n  \n']) assert.is(withBootLine(text), `#!/bin/sh\n${RC_LINE}\n`);
});

test("our line goes before Debian's closing exit 0, not after it", () => {
  const debian = '#!/bin/sh -e\n# comment\n\nexit 0\n';
  assert.is(withBootLine(debian), `#!/bin/sh -e\n# comment\n\n${RC_LINE}\nexit 0\n`);
});

test('the first top-level exit counts; an indented exit inside a block does not', () => {
  const text = '#!/bin/sh\nif [ -e /x ]; then\n  exit 1\nfi\nexit   # done\necho unreachable\nexit 0\n';
  assert.is(withBootLine(text), `#!/bin/sh\nif [ -e /x ]; then\n  exit 1\nfi\n${RC_LINE}\nexit   # done\necho unreachable\nexit 0\n`);
});

test('without an exit the line is appended, after a newline the file lacked', () => {
  assert.is(withBootLine('#!/bin/bash\ntouch /var/lock/subsys/local'), `#!/bin/bash\ntouch /var/lock/subsys/local\n${RC_LINE}\n`);
  assert.is(withBootLine('#!/bin/bash\n'), `#!/bin/bash\n${RC_LINE}\n`);
});

test('words that merely start with exit are not exits', () => {
  assert.is(withBootLine('#!/bin/sh\nexit_handler\nexits=1\n'), `#!/bin/sh\nexit_handler\nexits=1\n${RC_LINE}\n`);
});

test.run();
