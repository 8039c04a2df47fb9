import type { GuestContext } from '../guest/context';
import { bindNetwork, readLinks, type NetworkPlan } from './links';
import { ownership } from './marker';
import { networkMetadataOf, parseNetwork } from './model';
import type { RenderedFile } from './renderers/files';
import * as ifupdown from './renderers/ifupdown';
import * as resolvConf from './renderers/resolv-conf';
import { detectStack, Probe, STACKS, type RendererName, type Stack } from './stacks';

/**
 * configure-network: metadata -> model -> the guest's interfaces -> the detected stack's files,
 * written only where they changed and only over files we wrote, then the stack reloaded.
 */

interface ConfigureNetworkOptions {
  /** Use this stack instead of detecting one. */
  renderer?: RendererName;
  /** Replace files we did not write, or that were edited since. */
  force?: boolean;
  /** Reload the stack after a change (default true). */
  apply?: boolean;
}

interface ConfigureNetworkResult {
  renderer: RendererName | null;
  /** Guest paths written (or, in a dry run, that would be). */
  written: string[];
  removed: string[];
  /** Everything reported as wrong: bad metadata, missing interfaces, files left alone, failed commands. */
  problems: string[];
}

const SOURCE_LINE = 'source /etc/network/interfaces.d/*';

/** ifupdown reads nothing we write unless `interfaces` sources our folder; --force appends the line. */
async function ifupdownExtras(ctx: GuestContext, files: RenderedFile[], force: boolean, problems: string[]): Promise<RenderedFile[] | null> {
  const main = (await ctx.files.readText(ifupdown.INTERFACES)) ?? '';
  const others = (await ctx.files.list(ifupdown.DIR)).filter((n) => !ifupdown.OWNED.name.test(n));
  for (const [path, text] of [[ifupdown.INTERFACES, main], ...(await Promise.all(others.map(async (n) => [`${ifupdown.DIR}/${n}`, (await ctx.files.readText(`${ifupdown.DIR}/${n}`)) ?? ''])))]) {
    for (const name of ifupdown.definedInterfaces(text)) {
      if (files.some((f) => f.interface === name)) problems.push(`${path} also defines ${name}; both definitions apply: remove one`);
    }
  }
  if (files.every((f) => !f.path.startsWith(`${ifupdown.DIR}/`) || ifupdown.sources(main, f.path))) return [];
  if (!force) {
    problems.push(`${ifupdown.INTERFACES} does not read ${ifupdown.DIR}; nothing written: add "${SOURCE_LINE}" there, or run with --force to have it added`);
    return null;
  }
  const content = `${main}${main === '' || main.endsWith('\n') ? '' : '\n'}# Added by sdc-vm-tools configure-network\n${SOURCE_LINE}\n`;
  return [{ path: ifupdown.INTERFACES, content, mode: 0o644, interface: null }];
}

/** The stack's files, plus /etc/resolv.conf when neither the stack nor a symlinked manager handles it. */
async function filesFor(stack: Stack, plan: NetworkPlan, probe: Probe, ctx: GuestContext): Promise<RenderedFile[]> {
  const files = stack.render(plan);
  if (plan.dns && !(await stack.writesResolvConf(probe))) {
    if (await probe.isSymlink(resolvConf.PATH)) ctx.log.info(`${resolvConf.PATH} is a symlink, so whatever manages it gets the resolvers`);
    else files.push(...resolvConf.render(plan.dns));
  }
  return files;
}

/** Writes what changed; a file we did not write (or that was edited) only with --force. */
async function writeFiles(ctx: GuestContext, files: RenderedFile[], force: boolean, problems: string[]): Promise<RenderedFile[]> {
  const changed: RenderedFile[] = [];
  for (const file of files) {
    const old = await ctx.files.readText(file.path);
    // A plain resolv.conf where nothing manages it is what the installer or a DHCP client left:
    // the metadata's resolvers replace it. Our own, edited since, is kept like any edited file.
    if (file.replacesForeign && old !== null && ownership(old) === 'foreign' && !force) {
      ctx.log.info(`${file.path} was not written by configure-network; replaced, as nothing else manages it`);
    } else if (old !== null && old !== file.content && ownership(old) !== 'ours' && !force) {
      const whose = ownership(old) === 'edited' ? 'was edited since configure-network wrote it' : 'was not written by configure-network';
      problems.push(`${file.path} ${whose}; left alone (--force replaces it)`);
      continue;
    }
    if (await ctx.files.write(file.path, file.content, { mode: file.mode })) changed.push(file);
  }
  return changed;
}

/** Removes files we wrote earlier in the stack's folder that the new configuration no longer has. */
async function removeStale(ctx: GuestContext, stack: Stack, keep: RenderedFile[]): Promise<string[]> {
  const removed: string[] = [];
  const names = await ctx.files.list(stack.owned.dir);
  for (const name of names.filter((n) => stack.owned.name.test(n)).sort()) {
    const path = `${stack.owned.dir}/${name}`;
    if (keep.some((f) => f.path === path)) continue;
    const text = await ctx.files.readText(path);
    if (text === null) continue;
    if (ownership(text) !== 'ours') ctx.log.warn(`${path}: no longer configured, but not ours or edited; left alone`);
    else if (await ctx.files.remove(path)) removed.push(path);
  }
  return removed;
}

async function apply(ctx: GuestContext, stack: Stack, changed: string[], problems: string[]): Promise<void> {
  for (const step of stack.applyCommands(changed)) {
    const [name, ...args] = step.args;
    if (ctx.commands.which(name) === null) {
      problems.push(`cannot reload ${stack.name}: ${name} not found; the files take effect at the next boot`);
      return;
    }
    const result = await ctx.commands.run(name, args, { live: true });
    if (result.skipped) return;
    if (result.code !== 0 && !step.mayFail) {
      problems.push(`${step.args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop() ?? ''}`);
      return;
    }
  }
}

export async function configureNetwork(ctx: GuestContext, options: ConfigureNetworkOptions = {}): Promise<ConfigureNetworkResult> {
  const result: ConfigureNetworkResult = { renderer: null, written: [], removed: [], problems: [] };
  const { problems } = result;
  const parsed = parseNetwork(networkMetadataOf(ctx.metadata));
  problems.push(...parsed.problems);
  for (const note of parsed.notes) ctx.log.info(note);
  if (!parsed.model) return report(ctx, result, 'sdc:nics is unusable; the network configuration is left as it is');

  const bound = bindNetwork(parsed.model, await readLinks(ctx.files));
  problems.push(...bound.problems);
  if (bound.plan.interfaces.length === 0) return report(ctx, result, 'no interface to configure; nothing written');

  const probe = new Probe(ctx.files);
  const stack = options.renderer ? STACKS[options.renderer] : await detectStack(probe);
  if (!stack) return report(ctx, result, 'no known network stack found (netplan, NetworkManager, systemd-networkd, ifupdown, ifcfg); use --renderer');
  result.renderer = stack.name;
  ctx.log.info(`renderer: ${stack.name}${options.renderer ? ' (chosen)' : ' (detected)'}`);

  const files = await filesFor(stack, bound.plan, probe, ctx);
  if (stack.name === 'ifupdown') {
    const extras = await ifupdownExtras(ctx, files, options.force === true, problems);
    if (extras === null) return report(ctx, result, null);
    files.push(...extras);
  }
  const changed = await writeFiles(ctx, files, options.force === true, problems);
  result.written = changed.map((f) => f.path);
  result.removed = await removeStale(ctx, stack, files);
  const touched = [...new Set(changed.flatMap((f) => (f.interface === null ? [] : [f.interface])))];
  if (options.apply !== false && !ctx.dryRun && (changed.length > 0 || result.removed.length > 0)) await apply(ctx, stack, touched, problems);
  return report(ctx, result, null);
}

function report(ctx: GuestContext, result: ConfigureNetworkResult, last: string | null): ConfigureNetworkResult {
  if (last) result.problems.push(last);
  for (const p of result.problems) ctx.log.warn(p);
  if (result.problems.length === 0) ctx.log.info(result.written.length + result.removed.length === 0 ? 'network configuration unchanged' : `network configured: ${result.written.length} written, ${result.removed.length} removed`);
  return result;
}
