import { formatSecondaryDisk, UsageError } from '../../disk/format-secondary-disk';
import type { FsType } from '../../disk/plan';
import { EXIT } from '../../tools/run';
import { failed, ok, type GuestAction } from '../action';
import type { GuestLog } from '../context';

/** The data disk: a blank, unused second disk gets one GPT partition, a file system and /data; any other disk is left alone. */
export const formatSecondaryDiskAction: GuestAction = {
  name: 'format-secondary-disk',
  summary: 'Partition, format and mount a blank, unused data disk on /data; leave any disk that holds anything alone.',
  keys: [],
  once: false,
  options: {
    '--device': { value: 'PATH', help: 'the data disk (default: the first disk that does not hold /); a regular file works too' },
    '--fs': { value: 'TYPE', help: 'ext4 (default) or xfs' },
    '--mountpoint': { value: 'PATH', help: 'where to mount it (default /data)' },
  },
  async run(ctx, options) {
    // The runner logs what it found and did; the outcome is its last word.
    let last = '';
    const log: GuestLog = { info: (m) => ((last = m), ctx.log.info(m)), warn: (m) => ((last = m), ctx.log.warn(m)), error: (m) => ((last = m), ctx.log.error(m)) };
    const value = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
    try {
      const code = await formatSecondaryDisk({ ...ctx, log }, { device: value('--device'), fs: (value('--fs') ?? 'ext4') as FsType, mountPoint: value('--mountpoint') ?? '/data' });
      return code === EXIT.OK ? ok(last || 'done') : failed(last);
    } catch (err) {
      if (err instanceof UsageError) return failed(err.message);
      throw err;
    }
  },
};
