/** PowerShell text both the network model and the Windows guest actions need: literals in, JSON out. */

/** A PowerShell string literal: single quotes, with every character PowerShell takes for a single quote doubled. */
export function psQuote(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/** A value from a query that PowerShell may have turned into a single item or null: always a list. */
export function list<T>(value: T | T[] | null | undefined): T[] {
  return value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
}
