/** /etc/fstab as text: find entries, add one line without ever duplicating it. */

export interface FstabEntry {
  spec: string;
  mountPoint: string;
  fsType: string;
  options: string;
  dump: number;
  pass: number;
}

/** fstab escapes blanks and backslashes in its fields as octal. */
function escapeField(text: string): string {
  return text.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Undoes that escaping; the kernel escapes mount points in /proc the same way. */
export function unescapeField(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function formatEntry(e: FstabEntry): string {
  return [e.spec, escapeField(e.mountPoint), e.fsType, e.options, e.dump, e.pass].join(' ');
}

export function parseFstab(text: string): FstabEntry[] {
  const entries: FstabEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || fields[0].startsWith('#')) continue;
    entries.push({
      spec: unescapeField(fields[0]),
      mountPoint: unescapeField(fields[1]),
      fsType: fields[2] ?? '',
      options: fields[3] ?? '',
      dump: Number(fields[4] ?? 0),
      pass: Number(fields[5] ?? 0),
    });
  }
  return entries;
}

function normal(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

type FstabChange =
  /** The text with the entry added. */
  | { kind: 'add'; text: string }
  /** The same entry is already there. */
  | { kind: 'present' }
  /** Another entry uses the mount point or the spec: nothing is added. */
  | { kind: 'conflict'; line: string };

/** Adds `entry` unless an entry for its spec or its mount point is already there. */
export function addFstabEntry(text: string, entry: FstabEntry): FstabChange {
  for (const e of parseFstab(text)) {
    const sameSpec = e.spec.toLowerCase() === entry.spec.toLowerCase();
    const sameMount = normal(e.mountPoint) === normal(entry.mountPoint);
    if (sameSpec && sameMount) return { kind: 'present' };
    if (sameSpec || sameMount) return { kind: 'conflict', line: formatEntry(e) };
  }
  const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return { kind: 'add', text: `${prefix}${formatEntry(entry)}\n` };
}
