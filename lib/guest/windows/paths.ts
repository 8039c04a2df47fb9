/**
 * Where the guest tools keep their files on Windows: C:\smartdc, as the original tools did (the
 * system drive is C: on every image we know; install.ps1 uses the same folder). install.ps1 makes
 * C:\smartdc writable by SYSTEM and Administrators only, since the boot task runs what is in it as
 * SYSTEM; C:\smartdc\bin is readable by every user.
 */
export const SMARTDC = 'C:\\smartdc';
export const STATE_DIR = `${SMARTDC}\\state`;
export const STATE_FILE = `${STATE_DIR}\\state.json`;
export const LOG_DIR = `${SMARTDC}\\logs`;
export const LOG_FILE = `${LOG_DIR}\\sdc-guest.log`;
/** Our own generated PowerShell scripts, kept after they ran: what the last boot did. */
export const SCRIPTS_DIR = `${SMARTDC}\\scripts`;
export const USER_SCRIPT = `${SMARTDC}\\user-script.ps1`;
export const OPERATOR_SCRIPT = `${SMARTDC}\\operator-script.ps1`;
export const USER_DATA = `${SMARTDC}\\user-data`;
export const UNATTEND = `${SMARTDC}\\sysprep\\unattend.xml`;

export const WINDOWS_DIR = 'C:\\Windows';
/** Windows runs this once, as SYSTEM, at the end of setup (after sysprep too); install.ps1 puts ours there. */
export const SETUP_COMPLETE = `${WINDOWS_DIR}\\Setup\\Scripts\\SetupComplete.cmd`;
export const SYSPREP_EXE = `${WINDOWS_DIR}\\System32\\Sysprep\\sysprep.exe`;

/** The scheduled task that runs `sdc-guest.exe boot` at startup as SYSTEM (install.ps1 registers it). */
export const BOOT_TASK = 'sdc-guest-boot';
