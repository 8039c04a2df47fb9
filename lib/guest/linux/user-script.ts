import { skipped, type GuestAction } from '../action';
import { secondsOption } from '../scripts';
import { runOrStageScript, SCRIPTS_LATER_OPTION, unstage } from './scripts';

const DEFAULT_TIMEOUT_SECONDS = 1800;

/**
 * `user-script`: once per instance by default (until it succeeds, so a failed first run is tried
 * again on the next boot); on every boot when `run_userscript_flag` is `true` (any case).
 */
export const runUserScript: GuestAction = {
  name: 'run-user-script',
  summary: 'Run user-script once per instance (every boot with run_userscript_flag=true).',
  keys: ['user-script', 'run_userscript_flag'],
  once: (metadata) => (metadata.get('run_userscript_flag') ?? '').trim().toLowerCase() !== 'true',
  leftToCloudInit: true,
  recordStart: true,
  options: { ...SCRIPTS_LATER_OPTION, '--user-script-timeout': { value: 'SECONDS', help: `time limit for the user-script (default ${DEFAULT_TIMEOUT_SECONDS})` } },
  async run(ctx, options) {
    const limit = secondsOption(options['--user-script-timeout'], DEFAULT_TIMEOUT_SECONDS, '--user-script-timeout');
    const script = ctx.metadata.get('user-script');
    if (script === null) {
      await unstage(ctx, 'run-user-script');
      return skipped('no user-script in the metadata');
    }
    return runOrStageScript(ctx, options, 'run-user-script', 'user-script', script, limit);
  },
};
