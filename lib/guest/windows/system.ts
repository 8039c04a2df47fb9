import type { GuestAction } from '../action';
import type { GuestContext } from '../context';
import type { GuestSystem, RestartKind } from '../system';
import { setAdministratorPassword } from './administrator-password';
import { configureNetworkWindows } from './configure-network';
import { formatSecondaryDiskWindows } from './format-secondary-disk';
import { setHostnameWindows } from './hostname';
import { LOG_FILE, STATE_FILE } from './paths';
import { windowsImagePreparation } from './prepare-image';
import { getUserDataWindows, runOperatorScriptWindows, runUserScriptWindows } from './scripts';

/**
 * The Windows boot actions in the order `sdc-guest.exe boot` runs them: the network first, then
 * the password (first boot only) and the computer name (a rename reboots, and the rest runs after
 * the reboot), the data disk, and the scripts last, operator-script before user-script.
 */
export const WINDOWS_ACTIONS: GuestAction[] = [
  configureNetworkWindows,
  setAdministratorPassword,
  setHostnameWindows,
  formatSecondaryDiskWindows,
  getUserDataWindows,
  runOperatorScriptWindows,
  runUserScriptWindows,
];

/** shutdown.exe, planned maintenance, with the reason in the event log. */
async function restart(ctx: GuestContext, kind: RestartKind, reason: string): Promise<void> {
  const r = await ctx.commands.run('shutdown.exe', [kind === 'reboot' ? '/r' : '/s', '/t', '0', '/d', 'p:4:1', '/c', `sdc-guest: ${reason}`], { live: true, timeoutMs: 60_000 });
  if (!r.skipped && r.code !== 0) throw new Error(`shutdown.exe exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
}

export const WINDOWS_SYSTEM: GuestSystem = {
  name: 'windows',
  actions: WINDOWS_ACTIONS,
  stateFile: STATE_FILE,
  logFile: LOG_FILE,
  metadataAgentActive: async () => false,
  restart,
  imagePreparation: windowsImagePreparation(restart),
};
