import { openMetadataSession } from '../client/session';
import { MetadataUnavailableError, type MetadataView } from './context';

/** The metadata of one run, fetched at its start over one session that is closed again at once. */
export interface FetchedMetadata extends MetadataView {
  /** Why some or all keys could not be fetched; null when all were. */
  readonly problem: string | null;
}

class Fetched implements FetchedMetadata {
  constructor(
    private readonly values: Map<string, string | null>,
    readonly problem: string | null,
  ) {}

  get(key: string): string | null {
    if (!this.values.has(key)) throw new MetadataUnavailableError(`${key} could not be read: ${this.problem ?? 'it was not fetched'}`);
    return this.values.get(key) as string | null;
  }
}

/** For a run or a tool that reads no metadata: no session is opened, and any key is unavailable. */
export function noMetadata(): FetchedMetadata {
  return new Fetched(new Map(), null);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens a session within the budget, reads `keys` (sent together on the one session),
 * and closes it, so that scripts run afterwards can use the metadata service themselves.
 */
export async function fetchMetadata(keys: Iterable<string>, budgetSeconds: number, deadline: number, log: (line: string) => void): Promise<FetchedMetadata> {
  const values = new Map<string, string | null>();
  let session;
  try {
    session = await openMetadataSession({ budgetSeconds, deadline, log });
  } catch (err) {
    return new Fetched(values, messageOf(err));
  }
  const problems: string[] = [];
  try {
    const wanted = [...new Set(keys)];
    const results = await session.getMany(wanted);
    results.forEach((r, i) => {
      if (r instanceof Error) problems.push(`${wanted[i]}: ${r.message}`);
      else values.set(wanted[i], r);
    });
  } finally {
    await session.close();
  }
  return new Fetched(values, problems.length ? problems.join('; ') : null);
}
