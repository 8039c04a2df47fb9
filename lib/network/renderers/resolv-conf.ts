import type { Dns } from '../model';
import { ownedFile, type RenderedFile } from './files';

/** /etc/resolv.conf, for stacks that leave it to someone else when nobody else manages it. */

export const PATH = '/etc/resolv.conf';

export function render(dns: Dns | null): RenderedFile[] {
  if (!dns) return [];
  const lines = [...(dns.search.length > 0 ? [`search ${dns.search.join(' ')}`] : []), ...dns.servers.map((s) => `nameserver ${s}`)];
  return [{ ...ownedFile(PATH, `${lines.join('\n')}\n`, 0o644, null), replacesForeign: true }];
}
