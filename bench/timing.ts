import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface TimedCommand {
  name: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** /proc's clock ticks per second (USER_HZ, 100 on Linux whatever the kernel's own rate). */
const CLOCK_TICKS = 100;

/** CPU time (ms, user + system) of this process's waited-for children so far, from /proc/self/stat. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ').pop()!.split(' ');
  // Fields 16 and 17 (cutime, cstime), counted from field 3 after the command name.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

/**
 * Each command's wall times (ms), `runs` rounds after `warmup` uncounted ones (wall[c][r] is
 * command c in round r), and its mean CPU time (user + system, of the command and what it starts).
 * Every round runs each command once (A B C, A B C, ...), so that load from other work on a shared
 * machine falls on every command alike and same-round ratios hold; the CPU time is hardly touched
 * by that load at all (the clock ticks are 10 ms, so it is a mean over the runs).
 */
export function interleavedSamples(commands: TimedCommand[], runs: number, warmup = 3): { wall: number[][]; cpu: number[] } {
  const samples = commands.map(() => [] as number[]);
  const cpu = commands.map(() => 0);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((c, n) => {
      const cpuBefore = childrenCpuMs();
      const started = process.hrtime.bigint();
      const r = spawnSync(c.file, c.args, { env: { ...process.env, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr}`);
      if (i >= warmup) {
        samples[n].push(ms);
        cpu[n] += childrenCpuMs() - cpuBefore;
      }
    });
  }
  return { wall: samples, cpu: cpu.map((total) => total / runs) };
}

/** Median wall time (ms) of each command, from interleaved runs. */
export function interleavedMedians(commands: TimedCommand[], runs: number, warmup = 3): number[] {
  return interleavedSamples(commands, runs, warmup).wall.map(median);
}

/** The median of the same-round ratios a[r] / b[r]: steadier than a ratio of medians when the machine's load drifts. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, r) => x / b[r]));
}
