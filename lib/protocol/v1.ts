export function encodeV1Request(code: 'GET' | 'KEYS', key?: string): string {
  return key === undefined ? `${code}\n` : `${code} ${key}\n`;
}

/** Dot-stuff a value for a V1 SUCCESS reply: the whole reply, header to terminator. */
export function encodeV1Success(value: string): string {
  return `SUCCESS\n${value.replace(/(^|\n|\r)\./g, '$1..')}\n.\n`;
}

/**
 * Collects the data lines of a V1 SUCCESS reply. Lines are unstuffed and joined with LF;
 * unlike the C client, leading empty lines are kept.
 */
export class V1Body {
  private lines: string[] = [];
  /** Bytes collected so far, separators included. */
  size = 0;
  done = false;

  /** Feed one line (without LF); returns true when the terminator was seen. */
  push(line: string): boolean {
    if (line === '.') return (this.done = true);
    const data = line.startsWith('.') ? line.slice(1) : line;
    this.lines.push(data);
    this.size += data.length + 1;
    return false;
  }

  value(): string {
    return this.lines.join('\n');
  }
}
