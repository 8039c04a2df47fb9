import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GuestCommands } from '../guest/commands';
import { GuestFiles } from '../guest/files';
import { ToolLog } from '../guest/log';
import { writeErr } from '../tools/client-cli';
import { parseGuestArgs, type GuestArgs, type GuestToolSpec } from '../tools/guest-cli';
import { EXIT, writeStdout, type ToolMain } from '../tools/run';
import { MANIFEST_FILE } from './manifest';
import { install, runningExecutable, uninstall, type InstallContext } from './install';

function contextOf(args: GuestArgs, name: string): InstallContext {
  const log = new ToolLog(null, name);
  const print = writeStdout;
  const { root, dryRun, live } = args;
  return { root, dryRun, log, files: new GuestFiles({ root, dryRun, log, print }), commands: new GuestCommands({ dryRun, log, print, live }) };
}

/** What makes the run impossible before it starts, as one line; null when it can go on. */
function refusal(args: GuestArgs): string | null {
  if (process.platform !== 'linux') return 'installs on Linux only';
  if (!statSync(args.root, { throwIfNoEntry: false })?.isDirectory()) return `--root ${args.root} is not a folder`;
  if (args.live && !args.dryRun && process.getuid?.() !== 0) return `changing the running system (${args.root}) needs root`;
  return null;
}

/** Runs `body`; an error is one line and exit 2. */
async function guarded(args: GuestArgs, name: string, body: (ctx: InstallContext) => Promise<string>): Promise<number> {
  const ctx = contextOf(args, name);
  const problem = refusal(args);
  if (problem) {
    ctx.log.error(problem);
    return EXIT.ERROR;
  }
  try {
    const done = await body(ctx);
    ctx.log.info(args.dryRun ? 'dry run: nothing changed' : done);
    return EXIT.OK;
  } catch (err) {
    ctx.log.error(err instanceof Error ? err.message : String(err));
    return EXIT.ERROR;
  }
}

const INSTALL_SPEC: GuestToolSpec = {
  name: 'install',
  summary: `Install sdc-guest into the root: /usr/sbin/sdc-guest, the mdata-* and /lib/smartdc links, the man pages and the boot hook (systemd unit, else rc.local). What it replaces is backed up and recorded in ${MANIFEST_FILE}; sdc-guest uninstall puts it back.`,
  options: {
    '--executable': { value: 'PATH', help: 'the sdc-guest executable to install (default: this one; needed under node)' },
    '--disable-cloud-init': { help: 'write /etc/cloud/cloud-init.disabled, so that sdc-guest boot also does what it leaves to cloud-init' },
  },
};

/** `sdc-guest install`; `guestTools` names the guest tools this executable has. */
export function installTool(guestTools: () => string[]): ToolMain {
  return async (argv) => {
    const args = parseGuestArgs(argv, INSTALL_SPEC);
    if (typeof args === 'number') return args;
    const given = args.options['--executable'];
    const executable = typeof given === 'string' ? resolve(given) : runningExecutable();
    if (!executable) {
      writeErr('sdc-guest install: this is not the standalone executable, so there is nothing to copy; give --executable PATH (see sdc-guest install --help)');
      return EXIT.USAGE;
    }
    if (!statSync(executable, { throwIfNoEntry: false })?.isFile()) {
      writeErr(`sdc-guest install: ${executable} is not a file`);
      return EXIT.USAGE;
    }
    return guarded(args, 'install', async (ctx) => {
      await install(ctx, { executable, guestTools: guestTools(), disableCloudInit: args.options['--disable-cloud-init'] === true });
      return `installed into ${args.root}; sdc-guest boot runs at the next boot`;
    });
  };
}

export const uninstallTool: ToolMain = async (argv) => {
  const args = parseGuestArgs(argv, {
    name: 'uninstall',
    summary: `Take back everything sdc-guest install did, as recorded in ${MANIFEST_FILE}: replaced files come back, created ones go.`,
    options: { '--purge': { help: 'also remove what sdc-guest boot wrote: its state file, scripts folder and log' } },
  });
  if (typeof args === 'number') return args;
  return guarded(args, 'uninstall', async (ctx) =>
    (await uninstall(ctx, args.options['--purge'] === true)) ? `uninstalled from ${args.root}` : `nothing to uninstall: no ${MANIFEST_FILE} in ${args.root}`,
  );
};
