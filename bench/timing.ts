import { spawnSync } from 'node:child_process';

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

/**
 * Wall times (ms) of each command, `runs` rounds after `warmup` uncounted ones: samples[c][r] is
 * command c in round r. Every round runs each command once (A B C, A B C, ...), so that load from
 * other work on a shared machine falls on every command alike and same-round ratios hold.
 */
export function interleavedSamples(commands: TimedCommand[], runs: number, warmup = 3): number[][] {
  const samples = commands.map(() => [] as number[]);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((c, n) => {
      const started = process.hrtime.bigint();
      const r = spawnSync(c.file, c.args, { env: { ...process.env, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr}`);
      if (i >= warmup) samples[n].push(ms);
    });
  }
  return samples;
}

/** Median wall time (ms) of each command, from interleaved runs. */
export function interleavedMedians(commands: TimedCommand[], runs: number, warmup = 3): number[] {
  return interleavedSamples(commands, runs, warmup).map(median);
}

/** The median of the same-round ratios a[r] / b[r]: steadier than a ratio of medians when the machine's load drifts. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, r) => x / b[r]));
}
