// Runs format-secondary-disk against a prefix root, for tests that need it in another process
// (inside `unshare --mount`).  node -r tsm test/support/run-format.ts ROOT DEVICE FS
import { formatSecondaryDisk } from '../../lib/disk/format-secondary-disk';
import { testContext } from './guest-context';

async function main(): Promise<void> {
  const [root, device, fs] = process.argv.slice(2);
  const ctx = testContext(root, {}, { path: process.env.PATH });
  const code = await formatSecondaryDisk(ctx, { device, fs: fs as 'ext4' | 'xfs', mountPoint: '/data' });
  process.stdout.write(ctx.lines.map((l) => `${l}\n`).join(''));
  process.exitCode = code;
}

void main();
