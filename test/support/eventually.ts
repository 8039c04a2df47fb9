import { sleep } from '../../lib/time-limit';

/**
 * Tries `attempt` until it returns true or `limitMs` have passed, with `pauseMs` between tries;
 * returns whether it ever did. For what happens a little later in another process (a closed
 * connection freeing its slot), instead of a fixed sleep that a loaded machine outlasts.
 */
export async function eventually(attempt: () => boolean | Promise<boolean>, limitMs = 10_000, pauseMs = 50): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await attempt()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pauseMs);
  }
}
