/** Files longer than this many lines get a one-line summary instead of a diff. */
const MAX_DIFF_LINES = 2000;
const CONTEXT = 3;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * A unified diff from `before` (null: the file does not exist) to `after`, from a longest common
 * subsequence of lines. Enough for a dry run's review of config files.
 */
export function unifiedDiff(path: string, before: string | null, after: string): string {
  const a = splitLines(before ?? '');
  const b = splitLines(after);
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) return `  (${a.length} lines -> ${b.length} lines, too long to show)\n`;
  // lcs[i][j]: common lines of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Array<{ kind: ' ' | '-' | '+'; text: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', text: a[i], ai: i++, bi: j++ });
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: '-', text: a[i], ai: i++, bi: j });
    else ops.push({ kind: '+', text: b[j], ai: i, bi: j++ });
  }
  const out = [`--- ${before === null ? '/dev/null' : path}`, `+++ ${path}`];
  for (let k = 0; k < ops.length; ) {
    if (ops[k].kind === ' ') {
      k++;
      continue;
    }
    // A hunk: this change with its context, merged with changes that come close after it.
    let end = k;
    for (let m = k; m < ops.length && m - end <= 2 * CONTEXT; m++) if (ops[m].kind !== ' ') end = m;
    const from = Math.max(0, k - CONTEXT);
    const to = Math.min(ops.length, end + CONTEXT + 1);
    const hunk = ops.slice(from, to);
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${hunk[0].ai + (aCount ? 1 : 0)},${aCount} +${hunk[0].bi + (bCount ? 1 : 0)},${bCount} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = to;
  }
  return `${out.join('\n')}\n`;
}
