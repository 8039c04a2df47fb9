import { createHash } from 'node:crypto';

/**
 * How a file says that configure-network wrote it: a two-line `#` header (every format we write
 * takes `#` comments) with a digest of the rest of the file. A file whose digest still matches was
 * not edited since, so it may be replaced or removed; one without the header, or with a digest that
 * no longer matches, belongs to someone else and is only replaced with --force.
 */

const FIRST = "# Written by sdc-vm-tools configure-network from the VM's metadata";
const SECOND = '# Edits are kept: an edited file (or one without these lines) is only replaced with --force.';
const HEADER = new RegExp(`^${FIRST} \\(([0-9a-f]{16})\\)\\n${SECOND.replace(/[.()]/g, '\\$&')}\\n`);

function digest(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

export function withMarker(body: string): string {
  return `${FIRST} (${digest(body)})\n${SECOND}\n${body}`;
}

/** `ours`: written by us and unchanged; `edited`: written by us, changed since; `foreign`: not ours. */
type Ownership = 'ours' | 'edited' | 'foreign';

export function ownership(content: string): Ownership {
  const m = HEADER.exec(content);
  if (!m) return 'foreign';
  return digest(content.slice(m[0].length)) === m[1] ? 'ours' : 'edited';
}
