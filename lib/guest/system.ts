import type { StateReporter } from '../image/imgadm';
import type { ActionOption, ActionOptions, GuestAction } from './action';
import type { GuestContext } from './context';

/**
 * What differs between the guest systems `sdc-guest` runs on (Linux, Windows), in one place: the
 * boot actions and their order, where the state and the log go, the waits around them, how to
 * restart, and how to prepare an image. The runner, the state file and the tools are shared.
 */
export interface GuestSystem {
  readonly name: 'linux' | 'windows';
  /** The boot actions, in the order `sdc-guest boot` runs them. */
  readonly actions: GuestAction[];
  /** Guest paths of the state file and of the log file. */
  readonly stateFile: string;
  readonly logFile: string;
  /** Another agent applies the metadata (cloud-init): at boot, actions marked `leftToCloudInit` are left to it. */
  metadataAgentActive(ctx: GuestContext): Promise<boolean>;
  /** Reboots or powers off the guest (a dry run prints the command). */
  restart(ctx: GuestContext, kind: RestartKind, reason: string): Promise<void>;
  readonly imagePreparation: ImagePreparation;
}

export type RestartKind = 'reboot' | 'poweroff';

/** prepare-image's exit status when --strict refuses because of warnings. */
export const STRICT_WARNINGS = 1;

/** `sdc-guest prepare-image` on this system. */
export interface ImagePreparation {
  summary: string;
  /** Its own options besides --root, --dry-run, --live, --timeout and --imgadm. */
  options: Record<string, ActionOption>;
  /** Exit codes after 0, 2 and 3, for the help text. */
  exitCodes?: string;
  /** Cleans (a dry run lists), and with a reporter follows imgadm's contract; returns the exit code. */
  run(ctx: GuestContext, options: ActionOptions, imgadm: StateReporter | null): Promise<number>;
}
