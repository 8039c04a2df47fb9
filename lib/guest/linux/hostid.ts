import { endianness } from 'node:os';
import { failed, ok, skipped, type GuestAction } from '../action';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** /etc/hostid's 4 bytes, so that gethostid() (which reads them in host byte order) returns the UUID's first 32 bits. */
export function hostidBytes(uuid: string, order: 'LE' | 'BE' = endianness()): Buffer {
  const bytes = Buffer.alloc(4);
  const id = parseInt(uuid.slice(0, 8), 16);
  if (order === 'LE') bytes.writeUInt32LE(id);
  else bytes.writeUInt32BE(id);
  return bytes;
}

export const setHostid: GuestAction = {
  name: 'set-hostid',
  summary: "Write /etc/hostid so that `hostid` prints the first 8 hex digits of sdc:uuid.",
  keys: ['sdc:uuid'],
  once: true,
  async run(ctx) {
    const uuid = ctx.metadata.get('sdc:uuid');
    if (uuid === null) return skipped('no sdc:uuid in the metadata; /etc/hostid left alone');
    if (!UUID.test(uuid.trim())) return failed(`sdc:uuid is not a UUID: ${JSON.stringify(uuid.slice(0, 60))}`);
    await ctx.files.write('/etc/hostid', hostidBytes(uuid.trim()), { mode: 0o644 });
    return ok(`hostid ${uuid.trim().slice(0, 8).toLowerCase()}`);
  },
};
