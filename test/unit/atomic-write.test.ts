// lib/fs/atomic-write.ts against a file planted at the very temp name it is about to use. The
// name is random (platform.randomBytes), so the tests choose it by replacing that function for the
// duration of one call; each test checks that the planted name was really the one asked for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTempName, replaceFileFrom, writeFileAtomic, writeFileAtomicSync } from '../../lib/fs/atomic-write';
import { platform } from '../../lib/platform';

const work = mkdtempSync(join(tmpdir(), 'atomic-write-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const FORCED = 'feedfacecafebeef';
const VICTIM = 'do not touch\n';
const OLD = 'old content\n';
const NEW = 'new content\n';

/**
 * Runs `body` while the first call of platform.randomBytes returns the bytes of FORCED (later
 * calls, say a retry under another name, get real random bytes). Returns how many calls there were.
 */
async function withForcedName(body: () => unknown): Promise<number> {
  const real = platform.randomBytes;
  let calls = 0;
  platform.randomBytes = (count) => (++calls === 1 ? Buffer.from(FORCED, 'hex').subarray(0, count) : real(count));
  try {
    await body();
  } finally {
    platform.randomBytes = real;
  }
  return calls;
}

let cases = 0;

/**
 * A folder with `target` (OLD, mode 0o640) and, outside it, a victim file (VICTIM, mode 0o600), and
 * at the temp name that FORCED gives for `target` a symbolic link or a hard link to the victim.
 */
function planted(kind: 'symlink' | 'hardlink') {
  const dir = join(work, `case-${++cases}`);
  mkdirSync(join(dir, 'folder'), { recursive: true });
  const victim = join(dir, 'victim');
  writeFileSync(victim, VICTIM);
  chmodSync(victim, 0o600);
  const target = join(dir, 'folder', 'target');
  writeFileSync(target, OLD);
  chmodSync(target, 0o640);
  const plantedName = `.target.${FORCED}.tmp`;
  assert.ok(isTempName(plantedName, 'target'), `${plantedName} is a name the current scheme makes`);
  if (kind === 'symlink') symlinkSync(victim, join(dir, 'folder', plantedName));
  else linkSync(victim, join(dir, 'folder', plantedName));
  const victimIno = statSync(victim).ino;
  return {
    target,
    /** The victim has its content, mode and inode, and is a file of its own (not the target). */
    victimUntouched() {
      const st = lstatSync(victim);
      assert.ok(st.isFile(), 'the victim is still a regular file');
      assert.is(readFileSync(victim, 'utf8'), VICTIM, 'the victim keeps its content');
      assert.is(st.mode & 0o7777, 0o600, 'the victim keeps its mode');
      assert.is(st.ino, victimIno);
      assert.is.not(statSync(target).ino, victimIno, 'the target is not the victim');
    },
    /** Our temp files other than the planted name: none may be left. */
    ownTemps: () => readdirSync(join(dir, 'folder')).filter((name) => isTempName(name, 'target') && name !== plantedName),
  };
}

/**
 * After a write that met a planted file: it either failed (and the target is as it was) or went
 * through under another name (and the target has the new content, as a regular file with its old
 * mode). Either way the victim is untouched and no temp file of ours is left.
 */
function assertSafe(p: ReturnType<typeof planted>, failure: unknown, calls: number): void {
  assert.ok(calls >= 1, 'the write asked platform.randomBytes for its temp name');
  p.victimUntouched();
  const st = lstatSync(p.target);
  assert.ok(st.isFile(), 'the target is a regular file');
  assert.is(st.mode & 0o7777, 0o640, 'the target keeps its mode');
  if (failure) {
    // Refused at the exclusive create (EEXIST), or, for a symlink, at O_NOFOLLOW (ELOOP).
    assert.ok(['EEXIST', 'ELOOP'].includes((failure as NodeJS.ErrnoException).code ?? ''), String(failure));
    assert.is(readFileSync(p.target, 'utf8'), OLD, 'a failed write leaves the target as it was');
  } else {
    assert.ok(calls >= 2, 'a write that went through used another name');
    assert.is(readFileSync(p.target, 'utf8'), NEW);
  }
  assert.equal(p.ownTemps(), [], 'no temp file left');
}

for (const kind of ['symlink', 'hardlink'] as const) {
  test(`writeFileAtomic (replaceFile): a ${kind} planted at its temp name is not written through`, async () => {
    const p = planted(kind);
    let failure: unknown = null;
    const calls = await withForcedName(() => writeFileAtomic(p.target, NEW).catch((err: unknown) => (failure = err)));
    assertSafe(p, failure, calls);
  });

  test(`writeFileAtomicSync: a ${kind} planted at its temp name is not written through`, async () => {
    const p = planted(kind);
    let failure: unknown = null;
    const calls = await withForcedName(() => {
      try {
        writeFileAtomicSync(p.target, Buffer.from(NEW));
      } catch (err) {
        failure = err;
      }
    });
    assertSafe(p, failure, calls);
  });
}

test('the same writes with no planted file go through: the forced name is usable', async () => {
  const p = planted('symlink');
  const dir = join(p.target, '..');
  rmSync(join(dir, `.target.${FORCED}.tmp`));
  const calls = await withForcedName(() => writeFileAtomic(p.target, NEW));
  assert.is(calls, 1);
  assert.is(readFileSync(p.target, 'utf8'), NEW);
  assert.is(statSync(p.target).mode & 0o7777, 0o640);
  assert.equal(readdirSync(dir), ['target']);
  const syncCalls = await withForcedName(() => writeFileAtomicSync(p.target, Buffer.from(OLD)));
  assert.is(syncCalls, 1);
  assert.is(readFileSync(p.target, 'utf8'), OLD);
  assert.equal(readdirSync(dir), ['target']);
});

test('replaceFileFrom: a producer that leaves a planted symlink at the temp path fails; nothing is chmod-ed or renamed through it', async () => {
  const p = planted('symlink');
  let failure: unknown = null;
  let given = '';
  const calls = await withForcedName(() =>
    replaceFileFrom(p.target, async (temp) => {
      given = temp;
    }).catch((err: unknown) => (failure = err)),
  );
  assert.is(calls, 1);
  assert.ok(given.endsWith(`/.target.${FORCED}.tmp`), given);
  assert.ok(failure, 'replaceFileFrom failed');
  assert.is((failure as NodeJS.ErrnoException).code, 'ELOOP', String(failure));
  p.victimUntouched();
  assert.ok(lstatSync(p.target).isFile(), 'the target is not replaced by the link');
  assert.is(readFileSync(p.target, 'utf8'), OLD);
  assert.is(statSync(p.target).mode & 0o7777, 0o640);
});

test.run();
