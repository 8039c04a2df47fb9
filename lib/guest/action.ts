import type { GuestContext, MetadataView } from './context';
import type { Result } from './state';
import type { RestartKind } from './system';

export interface ActionOutcome {
  result: Result;
  /** One line: what was done, or why not. Never a secret. */
  detail: string;
  /** The guest must reboot (a new host name) or power off (imgadm's prepare-image): at boot the run ends here and does it. */
  restart?: { kind: RestartKind; reason: string };
}

export const ok = (detail: string): ActionOutcome => ({ result: 'ok', detail });
export const skipped = (detail: string): ActionOutcome => ({ result: 'skipped', detail });
export const failed = (detail: string): ActionOutcome => ({ result: 'failed', detail });

/** Ok, or failed when there were problems: their count and the first of them after `detail`. */
export function okUnlessProblems(detail: string, problems: string[]): ActionOutcome {
  return problems.length === 0 ? ok(detail) : failed(`${detail}; ${problems.length} problem(s): ${problems[0]}${problems.length > 1 ? ' ...' : ''}`);
}

export interface ActionOption {
  /** Placeholder of the option's value (`NAME`), or undefined for a switch. */
  value?: string;
  help: string;
}

/** The values of an action's own options: a string for `--name VALUE`, true for a switch. */
export type ActionOptions = Record<string, string | true>;

/** One guest action: a tool of its own (`sdc-guest <name>`) and a step of `sdc-guest boot`. */
export interface GuestAction {
  name: string;
  summary: string;
  /** Metadata keys it reads; `sdc-guest boot` fetches them all at the start. */
  keys: readonly string[];
  /**
   * Once per instance (until it succeeds), or on every boot. A function decides from the
   * metadata (the user-script runs every boot when `run_userscript_flag` says so).
   */
  once: boolean | ((metadata: MetadataView) => boolean);
  /** It may restart the guest (a script): the state records it as started before it runs. */
  recordStart?: boolean;
  /** cloud-init's SmartOS datasource does the same: `boot` leaves it to cloud-init when that is active. */
  leftToCloudInit?: boolean;
  /** Its own options, as `--name`. */
  options?: Record<string, ActionOption>;
  run(ctx: GuestContext, options: ActionOptions): Promise<ActionOutcome>;
}
