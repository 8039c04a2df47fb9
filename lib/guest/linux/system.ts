import { prepareImage, prepareImageForImgadm } from '../../image/prepare-image';
import type { GuestContext } from '../context';
import { LOG_FILE } from '../log';
import { STATE_FILE } from '../state';
import type { GuestSystem } from '../system';
import { LINUX_ACTIONS } from './actions';
import { isInstalled } from './programs';
import { restartLinux } from './restart';

/** cloud-init is installed and not disabled: it applies its own share of the metadata. */
async function cloudInitActive(ctx: GuestContext): Promise<boolean> {
  if (!(await isInstalled(ctx.files, 'cloud-init')) || (await ctx.files.stat('/etc/cloud/cloud-init.disabled')) !== null) return false;
  return !/(^|\s)cloud-init=disabled(\s|$)/.test((await ctx.files.readText('/proc/cmdline')) ?? '');
}

export const LINUX_SYSTEM: GuestSystem = {
  name: 'linux',
  actions: LINUX_ACTIONS,
  stateFile: STATE_FILE,
  logFile: LOG_FILE,
  metadataAgentActive: cloudInitActive,
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
