import { skipped, type GuestAction } from '../action';
import { secondsOption } from '../scripts';
import { runScript } from './scripts';

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
  runsScripts: true,
  leftToCloudInit: true,
  options: { '--user-script-timeout': { value: 'SECONDS', help: `time limit for the user-script (default ${DEFAULT_TIMEOUT_SECONDS})` } },
  async run(ctx, options) {
    const limit = secondsOption(options['--user-script-timeout'], DEFAULT_TIMEOUT_SECONDS, '--user-script-timeout');
    const script = ctx.metadata.get('user-script');
    if (script === null) return skipped('no user-script in the metadata');
    return runScript(ctx, 'user-script', script, limit);
  },
};
