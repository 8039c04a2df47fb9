import type { GuestAction } from '../action';
import { sendArpUpdates } from './arp-updates';
import { configureNetworkAction } from './configure-network';
import { formatSecondaryDiskAction } from './format-secondary-disk';
import { setHostid } from './hostid';
import { setHostname } from './hostname';
import { runOperatorScript } from './operator-script';
import { setRootAuthorizedKeys } from './root-authorized-keys';
import { setRootPassword } from './root-password';
import { getUserData } from './user-data';
import { runUserScript } from './user-script';

/**
 * The Linux boot actions in the order `sdc-guest boot` runs them. The network comes first, then
 * accounts and names, then the data disk, and the scripts last, operator-script before
 * user-script.
 */
export const LINUX_ACTIONS: GuestAction[] = [
  configureNetworkAction,
  setRootAuthorizedKeys,
  setRootPassword,
  setHostid,
  setHostname,
  formatSecondaryDiskAction,
  sendArpUpdates,
  getUserData,
  runOperatorScript,
  runUserScript,
];
