/**
 * `work`, or what `onExpiry` returns (or throws) when `ms` pass first. The timer never outlives
 * the race, and a failure of `work` after the limit is ignored.
 */
export async function withTimeLimit<T>(work: Promise<T>, ms: number, onExpiry: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  const expired = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onExpiry());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. Not node:timers/promises: one module less to load at every start. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The longest wait a Node timer can hold, in whole seconds (2^31 - 1 ms). */
const MAX_SECONDS = 2147483;

/** A count of seconds from an option or the environment; `source` names it in the error. */
export function parseSeconds(text: string | undefined, source: string): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_SECONDS) {
    throw new Error(`${source} must be a number of seconds above 0 and at most ${MAX_SECONDS}, got '${text ?? ''}'`);
  }
  return n;
}
