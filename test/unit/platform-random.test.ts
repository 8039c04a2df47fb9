// lib/platform randomBytes on POSIX: slices of a pool read from /dev/urandom, each handed out once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { platform } from '../../lib/platform';

test('every call gets the length it asked for, as a buffer of its own', () => {
  for (const count of [0, 1, 4, 8, 4095, 4096, 4097, 10_000]) assert.is(platform.randomBytes(count).length, count, `${count} bytes`);
  const a = platform.randomBytes(16);
  a.fill(0xff);
  assert.not.equal(platform.randomBytes(16), a, 'writing into one result does not show in the next');
});

test('no slice is handed out twice, across pool refills', () => {
  // 3000 ids of 4 bytes: 12000 bytes, so the 4 KiB pool is refilled twice.
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) seen.add(platform.randomBytes(4).toString('hex'));
  // Chance collisions among 3000 random 32-bit ids: about 0.001 expected; reuse would give hundreds.
  assert.ok(seen.size >= 2998, `${3000 - seen.size} repeated ids`);
  const wide = new Set<string>();
  for (let i = 0; i < 1000; i++) wide.add(platform.randomBytes(16).toString('hex'));
  assert.is(wide.size, 1000);
});

test('the bytes look random (not a zeroed or repeated pool)', () => {
  const bytes = platform.randomBytes(8192);
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]++;
  // 32 of each value expected; a zero-filled or stuck pool puts thousands on one value.
  assert.ok(Math.max(...counts) < 100, `most frequent byte seen ${Math.max(...counts)} times`);
});

test.run();
