import { EXIT } from '../tools/run';

/** The part of a metadata session that the imgadm contract needs. */
export interface StateReporter {
  put(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** The end of a preparation that failed, as imgadm reads it: `prepare-image:error`, then `prepare-image:state` error. */
export async function reportImgadmError(reporter: Pick<StateReporter, 'put'>, message: string): Promise<void> {
  await reporter.put('prepare-image:error', message);
  await reporter.put('prepare-image:state', 'error');
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
      await reportImgadmError(reporter, (err as Error).message);
    }
  } finally {
    await reporter.close();
  }
  return code;
}
