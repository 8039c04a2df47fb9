import { SerialQueue } from '../serial-queue';
import { findMetadataTarget, openerFor, type MetadataTarget } from '../transport/detect';
import { BudgetExhaustedError, MetadataClient, type Operation, type Reply } from './metadata-client';

export { BudgetExhaustedError };

/** The host answered FAILURE; `reason` is its text (empty when it gave none; `FAILURE` on V1 hosts). */
export class HostFailureError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The host cannot do this: a V1-only host asked to PUT or DELETE, or `invalid command`. */
export class UnsupportedError extends Error {
  constructor(readonly command: Operation['code']) {
    super(`host does not support ${command}`);
  }
}

/** NOTFOUND for an operation that has no "not found" value (PUT, DELETE); the agent never sends it. */
export class NotFoundError extends Error {}

interface SessionOptions {
  /** The whole budget in seconds, as `--timeout` gives it; also the text of the timeout message. */
  budgetSeconds: number;
  /** When the budget ends (Date.now() ms); default: budgetSeconds from now. */
  deadline?: number;
  /** Progress notes such as `receive timeout, resetting protocol...`. */
  log?: (line: string) => void;
  /** Default: found from MDATA_SOCKET, MDATA_SERIAL, a zone socket or the platform's serial port. */
  target?: MetadataTarget;
}

/**
 * A metadata session for in-process use: values come back as plain values (null for not found),
 * failures as typed errors. Calls may overlap; they are sent one at a time. On a serial port the
 * device stays locked until `close()`, so close before anything else may want the port.
 */
export interface MetadataSession {
  /** `socket /path` or `serial /dev/ttyS1`. */
  readonly transport: string;
  readonly protocolVersion: 1 | 2;
  get(key: string): Promise<string | null>;
  /** Each key's value, null when not found, or that key's own error (the values read before the budget ran out are kept); sent together on a V2 host. */
  getMany(keys: string[]): Promise<Array<string | null | Error>>;
  /** The value's bytes exactly as the host sent them. */
  getBytes(key: string): Promise<Buffer | null>;
  keys(): Promise<string[] | null>;
  put(key: string, value: string | Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Finds the transport, connects, resets and negotiates; throws (BudgetExhaustedError, PermanentError...) if it cannot. */
export async function openMetadataSession(options: SessionOptions): Promise<MetadataSession> {
  const target = options.target ?? findMetadataTarget();
  const client = new MetadataClient({
    open: await openerFor(target),
    deadline: options.deadline ?? Date.now() + options.budgetSeconds * 1000,
    budgetSeconds: options.budgetSeconds,
    log: options.log,
  });
  try {
    await client.start();
  } catch (err) {
    await client.close();
    throw err;
  }
  return new Session(client, `${target.kind} ${target.path}`);
}

/** What a reply means: the value, null for not found, or a typed error. */
function valueOf(op: Operation, reply: Reply): Buffer | null {
  switch (reply.kind) {
    case 'success':
      return reply.value;
    case 'notfound':
      return null;
    case 'failure':
      throw new HostFailureError(reply.message);
    case 'unsupported':
      throw new UnsupportedError(op.code);
  }
}

class Session implements MetadataSession {
  private readonly queue = new SerialQueue();

  constructor(private readonly client: MetadataClient, readonly transport: string) {}

  get protocolVersion(): 1 | 2 {
    return this.client.protocolVersion;
  }

  /** One call at a time; after a failure that retrying did not cure, the next call starts a new session. */
  private requestAll(ops: Operation[], replies?: Array<Reply | undefined>): Promise<Reply[]> {
    return this.queue.run(() =>
      this.client.requestAll(ops, replies).catch(async (err: unknown) => {
        await this.client.close();
        throw err;
      }),
    );
  }

  private async value(op: Operation): Promise<Buffer | null> {
    const [reply] = await this.requestAll([op]);
    return valueOf(op, reply);
  }

  async getMany(keys: string[]): Promise<Array<string | null | Error>> {
    const ops: Operation[] = keys.map((key) => ({ code: 'GET', key }));
    const replies: Array<Reply | undefined> = ops.map(() => undefined);
    // The values that came before a failure (the budget ran out) are kept; the rest get its error.
    const failure = await this.requestAll(ops, replies).then(
      () => null,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    return replies.map((reply, i) => {
      if (reply === undefined) return failure as Error;
      try {
        return valueOf(ops[i], reply)?.toString('utf8') ?? null;
      } catch (err) {
        return err as Error;
      }
    });
  }

  async getBytes(key: string): Promise<Buffer | null> {
    return this.value({ code: 'GET', key });
  }

  async get(key: string): Promise<string | null> {
    return (await this.getBytes(key))?.toString('utf8') ?? null;
  }

  async keys(): Promise<string[] | null> {
    const list = await this.value({ code: 'KEYS' });
    return list && list.toString('utf8').split('\n').filter((k) => k !== '');
  }

  async put(key: string, value: string | Buffer): Promise<void> {
    const op: Operation = { code: 'PUT', key, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value };
    if ((await this.value(op)) === null) throw new NotFoundError(`No metadata for '${key}'`);
  }

  async delete(key: string): Promise<void> {
    if ((await this.value({ code: 'DELETE', key })) === null) throw new NotFoundError(`No metadata for '${key}'`);
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.client.close();
  }
}
