import { prepareImage, prepareImageForImgadm } from '../../image/prepare-image';
import type { GuestContext } from '../context';
import { LOG_FILE } from '../log';
import { STATE_FILE } from '../state';
import type { GuestSystem } from '../system';
import { LINUX_ACTIONS } from './actions';
import { restartLinux } from './restart';

/** How long `boot` waits for a default route before it runs scripts, at most. */
const NETWORK_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** cloud-init is installed and not disabled: it applies its own share of the metadata. */
async function cloudInitActive(ctx: GuestContext): Promise<boolean> {
  const [binary, disabled, cmdline] = await Promise.all([ctx.files.read('/usr/bin/cloud-init'), ctx.files.read('/etc/cloud/cloud-init.disabled'), ctx.files.readText('/proc/cmdline')]);
  return binary !== null && disabled === null && !/(^|\s)cloud-init=disabled(\s|$)/.test(cmdline ?? '');
}

/** Waits (bounded) until the guest has a default route, so that scripts find the network. */
async function waitForNetwork(ctx: GuestContext): Promise<void> {
  if (!ctx.commands.which('ip')) return;
  const until = Math.min(Date.now() + NETWORK_WAIT_MS, ctx.deadline);
  for (let first = true; ; first = false) {
    const r = await ctx.commands.run('ip', ['-j', 'route', 'show', 'default'], { readOnly: true, live: true, timeoutMs: 5000, quiet: !first });
    if (r.skipped || (r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== '[]')) return;
    if (Date.now() + 500 > until) {
      ctx.log.warn(`no default route after ${((Date.now() - until + NETWORK_WAIT_MS) / 1000).toFixed(0)} s; running the scripts anyway`);
      return;
    }
    if (first) ctx.log.info(`waiting up to ${((until - Date.now()) / 1000).toFixed(0)} s for a default route before the scripts`);
    await sleep(500);
  }
}

export const LINUX_SYSTEM: GuestSystem = {
  name: 'linux',
  actions: LINUX_ACTIONS,
  stateFile: STATE_FILE,
  logFile: LOG_FILE,
  metadataAgentActive: cloudInitActive,
  waitForNetwork,
  restart: (ctx, kind) => restartLinux(ctx, kind),
  imagePreparation: {
    summary: 'Remove from this guest what must not travel into an image (logs, keys, leases, machine-id, our own state).',
    options: { '--strict': { help: 'fail (exit 1) on warnings, and then clean nothing' } },
    exitCodes: '1 warnings with --strict',
    run: (ctx, options, imgadm) => {
      const settings = { strict: options['--strict'] === true };
      return imgadm ? prepareImageForImgadm(ctx, settings, imgadm) : prepareImage(ctx, settings);
    },
  },
};
