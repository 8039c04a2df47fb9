import { userDataAction } from '../user-data';

export const USER_DATA_FILE = '/var/db/mdata-user-data';

export const getUserData = userDataAction(USER_DATA_FILE, { mode: 0o600, owner: { uid: 0, gid: 0 } }, '0600');
