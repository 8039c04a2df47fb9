import { randomUUID } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { GuestContext } from '../guest/context';
import { EXIT } from '../tools/run';
import { assess, ourLayout, PARTITION_OFFSET, type DiskFacts, type Opinion } from './assess';
import { openDisk } from './device';
import { addFstabEntry, formatEntry } from './fstab';
import { fstabEntry, layoutFor, planFinish, planFormat, type FsType, type Layout, type Step, type Target } from './plan';
import { extInfo, findSignatures, readGpt, readSnapshot, xfsInfo, type Snapshot } from './signatures';
import { candidateDisks, isMountPoint, loopsBackedBy, partitionName, readSystemView, rootDisks, systemUse, type BlockDevice, type SystemView, type Use } from './system';

/**
 * `format-secondary-disk`: find the data disk, and only when every check says it is blank and
 * unused, give it one GPT partition and a file system, add it to fstab by UUID and mount it.
 * A disk that holds anything is logged and left alone (exit 0). Safe to run on every boot.
 */
interface FormatOptions {
  /** Guest path of the disk; default: found from the running system. */
  device?: string;
  fs: FsType;
  mountPoint: string;
}

export class UsageError extends Error {}

/** An absolute, plain path that fstab and mount can take; never `/`. */
function checkMountPoint(path: string): string {
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (!path.startsWith('/') || normal === '' || /[\s\\\x00-\x1f]/.test(path)) throw new UsageError(`--mountpoint must be an absolute path other than / without blanks, got '${path}'`);
  return normal;
}

interface Chosen {
  device: string;
  sys: BlockDevice | null;
}

/** The data disk: `--device`, else the first non-system disk in kernel order; null when there is none. */
function chooseDisk(ctx: GuestContext, view: SystemView, options: FormatOptions, system: string[] | null): Chosen | null {
  if (options.device) return { device: options.device, sys: null };
  if (!system) {
    ctx.log.warn('cannot tell which disk holds / from the mount table: leaving every disk alone');
    return null;
  }
  const [first, ...rest] = candidateDisks(view, system);
  if (!first) {
    ctx.log.info(`no data disk (system disks: ${system.join(', ')})`);
    return null;
  }
  if (rest.length > 0) ctx.log.info(`data disk is /dev/${first.name}; not managed: ${rest.map((d) => `/dev/${d.name}`).join(', ')}`);
  return { device: `/dev/${first.name}`, sys: first };
}

/** What `blkid -p` and `wipefs -n` see on the disk, when they are installed. */
async function secondOpinions(ctx: GuestContext, hostDevice: string): Promise<Opinion[]> {
  const opinions: Opinion[] = [];
  if (ctx.commands.which('blkid')) {
    const r = await ctx.commands.run('blkid', ['-p', '-o', 'export', hostDevice], { readOnly: true, timeoutMs: 30_000 });
    // 2: nothing found. 0: found. 8: several (ambivalent) signatures.
    if (r.code === 0 || r.code === 8) opinions.push({ tool: 'blkid -p', hits: [r.stdout.trim().split('\n').filter((l) => /^(TYPE|PTTYPE)=/.test(l)).join(' ') || `exit ${r.code}`] });
    else if (r.code === 2) opinions.push({ tool: 'blkid -p', hits: [] });
    else opinions.push({ tool: 'blkid -p', hits: [], failed: `exit ${r.code}: ${r.stderr.trim()}` });
  }
  if (ctx.commands.which('wipefs')) {
    const r = await ctx.commands.run('wipefs', ['--no-act', '--noheadings', '--output', 'TYPE,OFFSET', hostDevice], { readOnly: true, timeoutMs: 30_000 });
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    opinions.push(r.code === 0 ? { tool: 'wipefs -n', hits: lines } : { tool: 'wipefs -n', hits: [], failed: `exit ${r.code}: ${r.stderr.trim()}` });
  }
  return opinions;
}

/** Everything known about the chosen disk, read without writing. */
async function gatherFacts(ctx: GuestContext, view: SystemView, chosen: Chosen): Promise<DiskFacts> {
  const hostDevice = ctx.files.hostPath(chosen.device);
  const opened = await openDisk(hostDevice);
  let snapshot: Snapshot;
  let sys = chosen.sys;
  try {
    if (opened.kind === 'block') {
      const owner = view.devices.find((d) => d.dev === opened.rdev || d.partitions.some((p) => p.dev === opened.rdev));
      if (!owner) throw new Error(`${chosen.device} (${opened.rdev}) is not in /sys/block`);
      if (owner.dev !== opened.rdev) throw new UsageError(`${chosen.device} is a partition of /dev/${owner.name}, not a whole disk`);
      sys = owner;
    } else {
      sys ??= view.devices.find((d) => `/dev/${d.name}` === chosen.device) ?? null;
    }
    const size = opened.kind === 'block' ? sys!.sizeBytes : opened.fileSize;
    snapshot = await readSnapshot(opened.source(size));
  } finally {
    await opened.close();
  }
  const uses: Use[] = sys ? systemUse(view, sys) : [];
  if (opened.kind === 'file') {
    for (const loop of loopsBackedBy(view, [chosen.device, hostDevice])) uses.push({ kind: 'loop', text: `it backs /dev/${loop}` });
  }
  if (opened.busy) uses.push({ kind: 'busy', text: 'the kernel refused an exclusive open (it is in use)' });
  return {
    device: chosen.device,
    hostDevice,
    kind: opened.kind,
    sysfsName: sys?.name ?? null,
    sectorSize: opened.kind === 'block' ? sys!.logicalBlockSize : 512,
    snapshot,
    uses,
    opinions: await secondOpinions(ctx, hostDevice),
  };
}

export async function formatSecondaryDisk(ctx: GuestContext, options: FormatOptions): Promise<number> {
  const mountPoint = checkMountPoint(options.mountPoint);
  if (options.fs !== 'ext4' && options.fs !== 'xfs') throw new UsageError(`--fs must be ext4 or xfs, got '${options.fs}'`);
  const view = await readSystemView(ctx.files);
  const system = rootDisks(view);
  const chosen = chooseDisk(ctx, view, options, system);
  if (!chosen) return EXIT.OK;
  const facts = await gatherFacts(ctx, view, chosen);
  if (facts.sysfsName && system?.includes(facts.sysfsName)) {
    ctx.log.info(`leaving ${facts.device} alone: it holds the root file system`);
    return EXIT.OK;
  }
  const verdict = assess(facts, mountPoint);
  if (verdict.kind === 'leave') {
    ctx.log.info(`leaving ${facts.device} alone: ${verdict.reasons.join('; ')}`);
    return EXIT.OK;
  }
  const target: Target = {
    fs: verdict.kind === 'ours' ? (verdict.fs.type as FsType) : options.fs,
    mountPoint,
    hostMountPoint: ctx.files.hostPath(mountPoint),
    uuid: verdict.kind === 'ours' ? verdict.fs.uuid : randomUUID(),
    hostPartition: facts.kind === 'block' ? ctx.files.hostPath(`/dev/${partitionName(facts.sysfsName!, 1)}`) : null,
    haveUdevadm: ctx.commands.which('udevadm') !== null,
  };
  let steps: Step[];
  if (verdict.kind === 'ours') {
    ctx.log.info(`${facts.device} holds our ${verdict.fs.type} file system (UUID ${verdict.fs.uuid})${verdict.mounted ? `, mounted on ${mountPoint}` : ''}`);
    steps = planFinish(target, facts.hostDevice, layoutFor(facts.snapshot.size, facts.sectorSize), verdict.mounted);
  } else {
    if (isMountPoint(view, mountPoint)) {
      ctx.log.info(`leaving ${facts.device} alone: something else is mounted on ${mountPoint}`);
      return EXIT.OK;
    }
    const fstab = addFstabEntry((await ctx.files.readText('/etc/fstab')) ?? '', fstabEntry(target));
    if (fstab.kind === 'conflict') {
      ctx.log.info(`leaving ${facts.device} alone: /etc/fstab already has "${fstab.line}"`);
      return EXIT.OK;
    }
    const plan = planFormat(verdict.disk, target);
    if ('problem' in plan) {
      ctx.log.info(`leaving ${facts.device} alone: ${plan.problem}`);
      return EXIT.OK;
    }
    ctx.log.info(`${facts.device} is blank and unused: ${ctx.dryRun ? 'would format' : 'formatting'} it as ${target.fs} for ${mountPoint}`);
    steps = plan.steps;
  }
  return runSteps(ctx, facts, target, steps);
}

async function runSteps(ctx: GuestContext, facts: DiskFacts, target: Target, steps: Step[]): Promise<number> {
  const layout = layoutFor(facts.snapshot.size, facts.sectorSize);
  for (const step of steps) {
    const problem = await runStep(ctx, facts, target, layout, step);
    if (problem) {
      ctx.log.error(`${facts.device}: ${problem}; stopped`);
      return EXIT.ERROR;
    }
  }
  return EXIT.OK;
}

/** Runs one step (or, in a dry run, says what it would do); returns a problem, or null. */
async function runStep(ctx: GuestContext, facts: DiskFacts, target: Target, layout: Layout, step: Step): Promise<string | null> {
  switch (step.kind) {
    case 'run': {
      const line = [step.command, ...step.args].join(' ');
      if (ctx.dryRun) {
        ctx.log.info(`would run: ${line}${step.input ? ` <<< ${JSON.stringify(step.input)}` : ''}`);
        return null;
      }
      // Each command has its own limit: the run's budget is for the metadata service, and a
      // partition table without its file system is a disk we then leave alone for good.
      const r = await ctx.commands.run(step.command, step.args, { input: step.input, timeoutMs: step.timeoutMs, live: step.live });
      if (r.skipped) return null;
      return r.code === 0 ? null : `${line} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`;
    }
    case 'check-table':
      if (ctx.dryRun) ctx.log.info(`would check the table read back${target.hostPartition ? `, and run partx --add --nr 1 ${facts.hostDevice} if ${target.hostPartition} has not appeared` : ''}`);
      return ctx.dryRun ? null : checkTable(ctx, facts, target, layout);
    case 'check-fs':
      return ctx.dryRun ? null : checkFs(ctx, facts, step.uuid);
    case 'mkdir':
      if (ctx.dryRun) ctx.log.info(`would create ${step.path}`);
      else await ctx.files.mkdir(step.path, 0o755);
      return null;
    case 'fstab': {
      const text = (await ctx.files.readText('/etc/fstab')) ?? '';
      const change = addFstabEntry(text, step.entry);
      if (change.kind === 'present') return null;
      if (change.kind === 'conflict') return `/etc/fstab already has "${change.line}"; not adding "${formatEntry(step.entry)}"`;
      await ctx.files.write('/etc/fstab', change.text);
      return null;
    }
  }
}

async function reread(facts: DiskFacts): Promise<Snapshot> {
  const opened = await openDisk(facts.hostDevice);
  try {
    return await readSnapshot(opened.source(facts.snapshot.size));
  } finally {
    await opened.close();
  }
}

/** After partitioning, before mkfs: exactly our table, nothing inside the partition, its device node present. */
async function checkTable(ctx: GuestContext, facts: DiskFacts, target: Target, layout: Layout): Promise<string | null> {
  const s = await reread(facts);
  const gpt = readGpt(s, facts.sectorSize);
  const p = gpt?.partitions;
  if (!p || p.length !== 1 || p[0].firstLba !== layout.startLba || p[0].lastLba !== layout.startLba + layout.sizeLba - 1) {
    return `the partition table read back is not the one written (${JSON.stringify(p ?? null)})`;
  }
  const inside = findSignatures(s).filter((f) => f.offset >= PARTITION_OFFSET && f.type !== 'gpt');
  if (inside.length > 0 || s.at(PARTITION_OFFSET, PARTITION_OFFSET)?.some((b) => b !== 0)) return `the new partition is not empty (${inside.map((f) => f.type).join(', ') || 'non-zero bytes'})`;
  if (target.hostPartition && !(await isBlockDevice(target.hostPartition))) {
    // The kernel did not add the partition itself (a kernel without a GPT parser, a refused
    // re-read): partx parses the table and adds it through BLKPG.
    if (!ctx.commands.which('partx')) return `${target.hostPartition} did not appear after partitioning, and partx is not installed`;
    ctx.log.info(`${target.hostPartition} did not appear; adding it with partx`);
    const r = await ctx.commands.run('partx', ['--add', '--nr', '1', facts.hostDevice], { timeoutMs: 30_000, live: true });
    if (r.skipped) return `${target.hostPartition} did not appear, and partx does not run under --root without --live`;
    if (r.code !== 0) return `partx --add exited ${r.code}: ${r.stderr.trim()}`;
    if (target.haveUdevadm) await ctx.commands.run('udevadm', ['settle', '--timeout=30'], { timeoutMs: 35_000, live: true });
    if (!(await isBlockDevice(target.hostPartition))) return `${target.hostPartition} did not appear after partitioning`;
  }
  ctx.log.info(`${facts.device}: GPT partition 1 from sector ${layout.startLba}, ${layout.sizeLba} sectors`);
  return null;
}

async function isBlockDevice(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isBlockDevice() ?? false;
}

async function checkFs(ctx: GuestContext, facts: DiskFacts, uuid: string): Promise<string | null> {
  const s = await reread(facts);
  const fs = extInfo(s, PARTITION_OFFSET) ?? xfsInfo(s, PARTITION_OFFSET);
  if (fs?.uuid !== uuid || !ourLayout(s, facts.sectorSize)) return `the file system read back is not the one made (${JSON.stringify(fs)})`;
  ctx.log.info(`${facts.device}: ${fs.type} UUID=${uuid}`);
  return null;
}
