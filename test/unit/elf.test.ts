// lib/install/elf.ts against the host's own libraries (what objdump says of them), and against
// broken and hostile images: a clear ElfError or a result, never a crash, a hang or a huge read.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, readElfDynamic } from '../../lib/install/elf';
import { fuzzSeed, Random } from '../support/random';
import { skipTest } from '../support/skip';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const LIBSTDCXX = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';

/** objdump -p's "Version definitions" / "Version References" of a file, as readElfDynamic reports them. */
function objdumpVersions(file: string): { defs: string[]; needs: Record<string, string[]> } {
  const text = execFileSync('objdump', ['-p', file], { timeout: 60_000 }).toString();
  const defs = [...(text.split('Version definitions:')[1]?.split('Version References:')[0] ?? '').matchAll(/^\d+ 0x0[0-9a-f] 0x[0-9a-f]+ (\S+)$/gm)]
    .filter((m) => !m[0].includes(' 0x01 '))
    .map((m) => m[1]);
  const needs: Record<string, string[]> = {};
  let current = '';
  for (const line of (text.split('Version References:')[1] ?? '').split('\n')) {
    const from = /required from (\S+):/.exec(line);
    if (from) current = from[1];
    const version = /0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)$/.exec(line.trim());
    if (version && current) (needs[current] ??= []).push(version[1]);
  }
  return { defs, needs };
}

function sorted(record: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, [...record[k]].sort()]));
}

test('libc.so.6 and libstdc++.so.6 of this host: soname, needed, versions as objdump reads them', () => {
  if (!existsSync('/usr/bin/objdump')) return skipTest('objdump (binutils) is not installed');
  for (const file of [LIBC, LIBSTDCXX]) {
    const elf = readElfDynamic(file);
    const expected = objdumpVersions(file);
    assert.ok(expected.defs.length > 10 && Object.keys(expected.needs).length > 0, `objdump's output for ${file} was not understood`);
    assert.is(elf.soname, file.split('/').pop());
    assert.equal([...elf.versionDefs].sort(), [...expected.defs].sort(), `${file} definitions`);
    assert.equal(sorted(elf.versionNeeds), sorted(expected.needs), `${file} references`);
  }
  assert.ok(readElfDynamic(LIBC).versionDefs.includes('GLIBC_2.28'));
  assert.equal(readElfDynamic(LIBSTDCXX).needed.filter((n) => n === 'libc.so.6'), ['libc.so.6']);
});

test('a path and the same bytes read alike', () => {
  assert.equal(readElfDynamic(readFileSync(LIBSTDCXX)), readElfDynamic(LIBSTDCXX));
});

test('not ELF, 32-bit, empty: one ElfError each', () => {
  assert.throws(() => readElfDynamic(Buffer.from('#!/bin/sh\necho hi\n')), (e: Error) => e instanceof ElfError && /not an ELF file/.test(e.message));
  const elf32 = Buffer.from(readFileSync(LIBC).subarray(0, 4096));
  elf32[4] = 1;
  assert.throws(() => readElfDynamic(elf32), (e: Error) => e instanceof ElfError && /not a 64-bit little-endian x86-64/.test(e.message));
  assert.throws(() => readElfDynamic(Buffer.alloc(0)), (e: Error) => e instanceof ElfError);
});

test('a header that claims a 4 GiB program header table is refused before anything is read', () => {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeUInt16LE(62, 18);
  header.writeBigUInt64LE(64n, 32);
  header.writeUInt16LE(0xffff, 54);
  header.writeUInt16LE(0xffff, 56);
  const file = join(mkdtempSync(join(tmpdir(), 'elf-')), 'huge');
  writeFileSync(file, header);
  assert.throws(() => readElfDynamic(file), (e: Error) => e instanceof ElfError && /program header table of 4294836225 bytes/.test(e.message));
  rmSync(dirname(file), { recursive: true });
});

test('every truncation of a real library: a result or an ElfError, nothing else', () => {
  const bytes = readFileSync(LIBSTDCXX);
  for (let cut = 0; cut < bytes.length; cut += 4093) {
    try {
      readElfDynamic(bytes.subarray(0, cut));
    } catch (err) {
      assert.instance(err, ElfError, `cut at ${cut}: ${(err as Error).message}`);
    }
  }
});

const SEED = fuzzSeed(12345);

test(`random damage to the headers and the version tables: a result or an ElfError, quickly (seed ${SEED})`, () => {
  const original = readFileSync(LIBSTDCXX);
  const random = new Random(SEED);
  const started = Date.now();
  for (let round = 0; round < 300; round++) {
    const bytes = Buffer.from(original);
    for (let i = 0; i < 8; i++) bytes[random.below(Math.min(bytes.length, 64 * 1024))] = random.below(256);
    try {
      readElfDynamic(bytes);
    } catch (err) {
      assert.instance(err, ElfError, `round ${round}: ${(err as Error).message}`);
    }
  }
  assert.ok(Date.now() - started < 60_000, 'no damaged file makes the reader hang');
});

test.run();
