import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner, RootedFiles } from '../guest/context';
import { isInstalled } from '../guest/linux/programs';
import { SCRIPT_DIR } from '../guest/linux/scripts';
import { LOG_FILE } from '../guest/log';
import { STATE_FILE } from '../guest/state';
import { seaModule } from '../native/load-addon';
import { COMMIT, VERSION } from '../version';
import { disableUnit, initSystemOf, installBootHook, SDC_GUEST, UNITS, type InitSystem } from './boot-hook';
import { INSTALL_DIR, loadManifest, MANIFEST_FILE, saveManifest, type Entry } from './manifest';
import { chooseRuntime, executablePlacements, linuxToolsAt, PRIVATE_RUNTIME_HOME, type Placement } from './runtime';
import { InstallTree, type TreeContext } from './tree';

export interface InstallContext extends TreeContext {
  /** Its `live` says whether commands that act on the running system run (`systemctl daemon-reload`). */
  commands: CommandRunner;
}

interface InstallOptions {
  /** The sdc-guest executable to copy (host path). */
  executable: string;
  /** The guest tools this executable has, for the compatibility links. */
  guestTools: string[];
  disableCloudInit: boolean;
}

const MDATA_TOOLS = ['mdata-get', 'mdata-put', 'mdata-list', 'mdata-delete'];
/** The original tools' names in /lib/smartdc; each one we have gets a link there. */
const ORIGINAL_NAMES = ['mdata-get', 'set-root-authorized-keys', 'set-rootpassword', 'set-hostid', 'set-hostname', 'run-operator-script', 'get-user-data', 'run-user-script', 'send-arp-updates', 'format-secondary-disk', 'prepare-image'];
const COMPAT_DIR = '/lib/smartdc';
const MAN_DIR = '/usr/share/man/man8';
const MAN_PAGES = ['sdc-guest.8', ...MDATA_TOOLS.map((t) => `${t}.8`)];
const CLOUD_INIT_DISABLED = '/etc/cloud/cloud-init.disabled';
/** The original tools' boot scripts: left in place, they would run our tools again through /lib/smartdc. */
const OLD_BOOT_SCRIPTS = ['/lib/smartdc/joyent_rc.local', '/lib/smartdc/triton-guest.sh', '/lib/smartdc/firstboot'];

/** This process's own file when it is the standalone executable; null under node (the bundle). */
export function runningExecutable(): string | null {
  return seaModule() ? process.execPath : null;
}

/**
 * The man pages of the tools from `folder` (`LinuxTools.folder`): as the archives lay them out
 * (linux/man/man8), as installed (/usr/sbin or /usr/lib/sdc-guest: /usr/share/man/man8), or a
 * checkout's docs/man (dist/linux-x64, dist/linux-x64-runtime).
 */
function manPageDir(folder: string): string | null {
  const places = [join(folder, 'man', 'man8'), join(folder, '..', 'share', 'man', 'man8'), join(folder, '..', '..', 'share', 'man', 'man8'), join(folder, '..', '..', 'docs', 'man')];
  return places.find((d) => MAN_PAGES.every((p) => existsSync(join(d, p)))) ?? null;
}

/** The links and the man pages: mdata-* beside the executable, the old names in /lib/smartdc, the pages from `manDir`. */
function linksAndManPages(options: InstallOptions, manDir: string | null): Placement[] {
  const placements: Placement[] = MDATA_TOOLS.map((tool) => ({ path: `/usr/sbin/${tool}`, link: 'sdc-guest' }));
  const have = new Set([...MDATA_TOOLS, ...options.guestTools]);
  for (const name of ORIGINAL_NAMES.filter((n) => have.has(n))) placements.push({ path: `${COMPAT_DIR}/${name}`, link: SDC_GUEST });
  for (const page of manDir ? MAN_PAGES : []) placements.push({ path: `${MAN_DIR}/${page}`, source: join(manDir as string, page), mode: 0o644 });
  return placements;
}

/** Refuses, before any change, a place that holds a folder: we replace files and links only. */
async function checkPlaces(files: RootedFiles, paths: string[]): Promise<void> {
  for (const path of paths) {
    if ((await files.lstat(path))?.isDirectory()) throw new Error(`${path} is a folder; nothing installed`);
  }
}

function describeInit(init: InitSystem): string {
  return init.kind === 'systemd' ? 'systemd' : init.file;
}

/**
 * Installs (or upgrades) into the root: the executable, its links, the man pages, the boot hook
 * and, when asked, /etc/cloud/cloud-init.disabled. Every change is recorded in MANIFEST_FILE,
 * also when a step fails, so uninstall can take back what was done.
 */
export async function install(ctx: InstallContext, options: InstallOptions): Promise<void> {
  const earlier = await loadManifest(ctx.files);
  const tree = new InstallTree(ctx, earlier?.entries);
  const init = await initSystemOf(ctx);
  if (init.kind === 'systemd' && !ctx.commands.which('systemctl')) throw new Error('the root runs systemd, but systemctl is not on PATH; nothing installed');
  const tools = linuxToolsAt(options.executable);
  const choice = await chooseRuntime(ctx.root, tools);
  const manDir = manPageDir(tools.folder);
  const linksAndPages = linksAndManPages(options, manDir);
  // The executable (or the launcher and the private runtime) first: everything else links to SDC_GUEST.
  const placements = [...(await executablePlacements(tools, choice)), ...linksAndPages];
  const cloudInit = options.disableCloudInit && (await isInstalled(ctx.files, 'cloud-init'));
  await checkPlaces(ctx.files, [...placements.map((p) => p.path), ...(init.kind === 'systemd' ? UNITS.map((u) => u.file) : [init.file]), ...(cloudInit ? [CLOUD_INIT_DISABLED] : [])]);

  const { log } = ctx;
  const old: string[] = [];
  for (const path of OLD_BOOT_SCRIPTS) if (await ctx.files.lstat(path)) old.push(path);
  if (old.length) log.warn(`the original guest tools' boot scripts are here (${old.join(', ')}): they would run the actions again through ${COMPAT_DIR}; remove them`);
  try {
    await tree.ensureDir(INSTALL_DIR);
    for (const placement of placements) await tree.place(placement);
    if (choice.mode === 'direct') log.info(`${SDC_GUEST}: ${statSync(tools.executable).size} bytes from ${tools.executable} (${choice.reason})`);
    else log.info(`${SDC_GUEST}: a link to the launcher in ${PRIVATE_RUNTIME_HOME}, with ${tools.executable} and the private glibc (${choice.reason})`);
    const links = linksAndPages.filter((p) => 'link' in p).map((p) => p.path);
    log.info(`links to sdc-guest: ${links.join(' ')}`);
    if (manDir) log.info(`man pages from ${manDir}: ${MAN_PAGES.join(' ')} in ${MAN_DIR}`);
    else log.warn(`no man pages beside ${tools.executable} (${join(tools.folder, 'man', 'man8')}): installed without them`);
    log.info(`boot (${describeInit(init)}): ${await installBootHook(tree, ctx, init)}`);
    if (cloudInit) {
      await tree.putFile(CLOUD_INIT_DISABLED, 'sdc-guest install --disable-cloud-init: sdc-guest boot applies the metadata instead.\n', 0o644);
      log.info(`${CLOUD_INIT_DISABLED} written: cloud-init stays off, sdc-guest boot does all of it`);
    } else if (options.disableCloudInit) {
      log.info('cloud-init is not installed; nothing to disable');
    }
    const stale = tree.untouched();
    if (stale.length) log.info(`taking back ${stale.length} change(s) of the earlier install that this one does not make: ${stale.map((e) => e.path).join(' ')}`);
    await undoEntries(tree, ctx, stale);
  } finally {
    if (tree.list().length) await saveManifest(ctx.files, { format: 1, version: `${VERSION} (${COMMIT})`, installed: new Date().toISOString(), entries: tree.list() });
  }
}

/** Takes entries back, newest first; folders last, and only when empty. */
async function undoEntries(tree: InstallTree, ctx: InstallContext, entries: Entry[]): Promise<void> {
  const newestFirst = [...entries].reverse();
  for (const entry of [...newestFirst.filter((e) => e.kind !== 'dir'), ...newestFirst.filter((e) => e.kind === 'dir')]) {
    if (entry.kind !== 'enabled') {
      await tree.undo(entry);
      continue;
    }
    await disableUnit(ctx, entry);
    tree.forget(entry);
  }
}

/**
 * Puts back everything install replaced and removes what it created, folders too (when nothing
 * else is in them). `purge` also removes what `sdc-guest boot` wrote: its state, scripts and log.
 * Returns false when no install is recorded. A failed step leaves the manifest with what is left.
 */
export async function uninstall(ctx: InstallContext, purge: boolean): Promise<boolean> {
  const manifest = await loadManifest(ctx.files);
  if (!manifest) return false;
  const tree = new InstallTree(ctx, manifest.entries);
  const init = await initSystemOf(ctx);
  const enabled = manifest.entries.some((e) => e.kind === 'enabled');
  if (enabled && !ctx.commands.which('systemctl')) throw new Error('systemctl is not on PATH, and the unit was enabled with it; nothing removed');
  try {
    await undoEntries(
      tree,
      ctx,
      manifest.entries.filter((e) => e.kind !== 'dir'),
    );
  } catch (err) {
    await saveManifest(ctx.files, { ...manifest, entries: tree.list() });
    throw err;
  }
  if (purge) for (const path of [STATE_FILE, SCRIPT_DIR, LOG_FILE]) await tree.remove(path);
  await tree.remove(MANIFEST_FILE);
  await undoEntries(
    tree,
    ctx,
    manifest.entries.filter((e) => e.kind === 'dir'),
  );
  if (init.kind === 'systemd' && init.booted && enabled) await ctx.commands.run('systemctl', ['daemon-reload'], { live: true });
  ctx.log.info(`removed ${manifest.entries.length} recorded change(s) of sdc-guest ${manifest.version}, installed ${manifest.installed}`);
  return true;
}
