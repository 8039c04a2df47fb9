import { EXIT } from '../tools/run';

/** The part of a metadata session that the imgadm contract needs. */
export interface StateReporter {
  put(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `imgadm create -s` contract: `prepare-image:state` is `running`, then `success`, or `error`
 * with `prepare-image:error` written first; the session is closed either way. The caller then
 * powers the guest off, which imgadm waits for.
 */
export async function reportToImgadm(reporter: StateReporter, work: () => Promise<number>): Promise<number> {
  let code: number;
  try {
    await reporter.put('prepare-image:state', 'running');
    try {
      code = await work();
      if (code !== EXIT.OK) throw new Error('warnings with --strict');
      await reporter.put('prepare-image:state', 'success');
    } catch (err) {
      code = EXIT.ERROR;
      await reporter.put('prepare-image:error', (err as Error).message);
      await reporter.put('prepare-image:state', 'error');
    }
  } finally {
    await reporter.close();
  }
  return code;
}
