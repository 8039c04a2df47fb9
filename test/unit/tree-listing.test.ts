// test/support/tree.ts: the listing that "nothing changed" assertions compare must see every
// change it is not told to ignore.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeListing } from '../support/tree';

const work = mkdtempSync(join(tmpdir(), 'tree-listing-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function tree(name: string): string {
  const root = join(work, name);
  mkdirSync(join(root, 'var/log/apt'), { recursive: true });
  writeFileSync(join(root, 'var/log/syslog'), 'boot\n');
  writeFileSync(join(root, 'var/log/apt/history.log'), 'apt\n');
  writeFileSync(join(root, 'keep.txt'), 'keep\n');
  symlinkSync('/keep.txt', join(root, 'var/log/link'));
  chmodSync(root, 0o755);
  return root;
}

test('content, mode, link target and type changes all show, each on its own line', () => {
  const root = tree('changes');
  const before = treeListing(root);
  assert.is(before.split('\n').filter(Boolean).length, 7);
  const changes: Array<() => void> = [
    () => writeFileSync(join(root, 'keep.txt'), 'kept\n'),
    () => chmodSync(join(root, 'keep.txt'), 0o600),
    () => {
      rmSync(join(root, 'var/log/link'));
      symlinkSync('/elsewhere', join(root, 'var/log/link'));
    },
    () => {
      rmSync(join(root, 'var/log/syslog'));
      mkdirSync(join(root, 'var/log/syslog'));
    },
    () => writeFileSync(join(root, 'new'), ''),
  ];
  for (const change of changes) {
    const was = treeListing(root);
    change();
    assert.is.not(treeListing(root), was, change.toString());
  }
});

test('exclude: a path with or without its leading slash, a folder with everything in it; nothing else', () => {
  const root = tree('exclude');
  const full = treeListing(root);
  const less = treeListing(root, { exclude: ['/var/log/syslog', 'var/log/apt'] });
  assert.equal(less.split('\n'), full.split('\n').filter((line) => !/^var\/log\/(syslog|apt)[ /]/.test(line)));
  writeFileSync(join(root, 'var/log/syslog'), 'more\n');
  writeFileSync(join(root, 'var/log/apt/history.log'), 'more\n');
  assert.is(treeListing(root, { exclude: ['/var/log/syslog', 'var/log/apt'] }), less);
  writeFileSync(join(root, 'keep.txt'), 'changed\n');
  assert.is.not(treeListing(root, { exclude: ['/var/log/syslog', 'var/log/apt'] }), less);
});

test('withDir: the folder itself is listed first, so its mode counts too', () => {
  const root = tree('self');
  const before = treeListing(root, { withDir: true });
  assert.match(before, /^\. 0755 \d+:\d+ dir\n/);
  assert.is(before.slice(before.indexOf('\n') + 1), treeListing(root));
  chmodSync(root, 0o700);
  assert.is.not(treeListing(root, { withDir: true }), before);
  assert.is(treeListing(root), before.slice(before.indexOf('\n') + 1));
});

test.run();
