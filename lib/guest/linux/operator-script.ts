import { skipped, type GuestAction } from '../action';
import { secondsOption } from '../scripts';
import { runOrStageScript, SCRIPTS_LATER_OPTION, unstage } from './scripts';

const DEFAULT_TIMEOUT_SECONDS = 600;

/** `sdc:operator-script` (imgadm's prepare-image script, among others), on every boot, before any user-script. */
export const runOperatorScript: GuestAction = {
  name: 'run-operator-script',
  summary: 'Run sdc:operator-script on every boot, before the user-script.',
  keys: ['sdc:operator-script'],
  once: false,
  leftToCloudInit: true,
  options: { ...SCRIPTS_LATER_OPTION, '--operator-script-timeout': { value: 'SECONDS', help: `time limit for the operator-script (default ${DEFAULT_TIMEOUT_SECONDS})` } },
  async run(ctx, options) {
    const limit = secondsOption(options['--operator-script-timeout'], DEFAULT_TIMEOUT_SECONDS, '--operator-script-timeout');
    const script = ctx.metadata.get('sdc:operator-script');
    if (script === null) {
      await unstage(ctx, 'run-operator-script');
      return skipped('no sdc:operator-script in the metadata');
    }
    return runOrStageScript(ctx, options, 'run-operator-script', 'operator-script', script, limit);
  },
};
