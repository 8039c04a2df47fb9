/** The line test/run.ts counts as one skipped test. */
export const SKIP_MARKER = 'SKIPPED-TEST:';

/**
 * Ends the current test as skipped, with the reason on stdout. With SDC_TEST_NO_SKIP=1 (CI, which
 * installs everything the tests need) a skip is a failure instead.
 */
export function skipTest(reason: string): void {
  if (process.env.SDC_TEST_NO_SKIP === '1') throw new Error(`would skip, but SDC_TEST_NO_SKIP=1: ${reason}`);
  process.stdout.write(`\n  ${SKIP_MARKER} ${reason}\n`);
}
