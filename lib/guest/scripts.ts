import type { ActionOutcome } from './action';
import type { CommandResult, GuestContext } from './context';
import { parseSeconds } from '../time-limit';

/** Scripts' output goes to the log line by line, as it comes. */
export const logScriptLine = (ctx: GuestContext) => (line: string) => ctx.log.info(`| ${line}`);

/** The outcome of a script the runner ran (or would run): its exit status, its time limit, or why it did not run. */
export function scriptOutcome(ctx: GuestContext, name: string, r: CommandResult, timeoutSeconds: number): ActionOutcome {
  if (r.skipped) return { result: 'skipped', detail: `${name} not run: the root is not the running system` };
  if (ctx.dryRun) return { result: 'ok', detail: `${name} would run` };
  if (r.timedOut) return { result: 'failed', detail: `${name} killed after ${timeoutSeconds} s (time limit)` };
  if (r.code !== 0) return { result: 'failed', detail: `${name} exited ${r.code}` };
  return { result: 'ok', detail: `${name} exited 0` };
}

/** A `--name SECONDS` option's value, or the default. */
export function secondsOption(value: string | true | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  return parseSeconds(value === true ? '' : value, option);
}
