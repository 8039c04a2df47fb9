import { encodeV1Request, V1Body } from '../protocol/v1';
import { encodeRequest, parseFrame } from '../protocol/v2';
import { platform } from '../platform';
import { ChannelClosedError, MAX_LINE_BYTES, ReadTimeoutError, ReplyTooLongError } from '../transport/line-channel';
import { TransientError, type Transport, type TransportOpener } from '../transport/transport';
import { sleep, withTimeLimit } from '../time-limit';

export type Reply =
  | { kind: 'success'; value: Buffer }
  | { kind: 'notfound' }
  | { kind: 'failure'; message: string }
  /** The host answered `invalid command`, or is V1-only and the operation needs V2. */
  | { kind: 'unsupported' };

export type Operation =
  | { code: 'GET'; key: string }
  | { code: 'KEYS' }
  | { code: 'PUT'; key: string; value: Buffer }
  | { code: 'DELETE'; key: string };

/** The total time budget ran out; `reason` is the last thing that went wrong. */
export class BudgetExhaustedError extends Error {
  constructor(readonly seconds: number, readonly reason: string) {
    super(`timed out after ${seconds} s: ${reason}`);
  }
}

interface ClientOptions {
  open: TransportOpener;
  /** Total budget for everything, including retries (Date.now() ms). */
  deadline: number;
  budgetSeconds: number;
  /** Progress notes such as `receive timeout, resetting protocol...`. */
  log?: (line: string) => void;
}

const RESET_WAIT_MS = 2000;
const V1_WAIT_MS = 6000;
const V2_WAIT_MS = 45000;
const MIN_WAIT_MS = 100;
/** After what looks like the answers to our reset and probe, this long without another line confirms them. */
const QUIET_MS = 250;
const RETRY_PAUSE_MS = [50, 200, 500, 1000];

/** Failures that a new session may cure: everything else (a bad device, a programming error) is thrown at once. */
function isRetryable(err: unknown): boolean {
  return err instanceof ReadTimeoutError || err instanceof ChannelClosedError || err instanceof TransientError;
}

/**
 * One metadata session as mdata-client runs it: open, reset with an empty line, negotiate V2,
 * then requests. Timeouts and lost connections lead to a new session and a resend with a new
 * request id, until the budget runs out. One call at a time: the session API queues callers.
 */
export class MetadataClient {
  private transport: Transport | null = null;
  private version: 1 | 2 = 2;
  private retries = 0;

  constructor(private readonly options: ClientOptions) {}

  get protocolVersion(): 1 | 2 {
    return this.version;
  }

  /** An idle limit of at most `ms`, and at most half the budget left, so a reset and resend still fit. */
  private idle(ms: number): number {
    return Math.min(ms, Math.max((this.options.deadline - Date.now()) / 2, MIN_WAIT_MS));
  }

  private readLine(t: Transport, idleMs: number): Promise<string> {
    return t.input.readLine(this.idle(idleMs), this.options.deadline);
  }

  /** The next line if one comes within `ms` of the last byte, else null. */
  private async lineWithin(t: Transport, ms: number): Promise<string | null> {
    try {
      return await t.input.readLine(ms, this.options.deadline);
    } catch (err) {
      if (err instanceof ReadTimeoutError) return null;
      throw err;
    }
  }

  /** Writes within the same limits: a host that stops reading must not stall us. */
  private send(t: Transport, data: string): Promise<void> {
    return withTimeLimit(t.write(data), this.idle(V2_WAIT_MS), () => {
      throw new ReadTimeoutError('the metadata service is not reading');
    });
  }

  private async pause(reason: string): Promise<void> {
    const ms = RETRY_PAUSE_MS[Math.min(this.retries++, RETRY_PAUSE_MS.length - 1)];
    if (Date.now() + ms >= this.options.deadline) throw new BudgetExhaustedError(this.options.budgetSeconds, reason);
    await sleep(ms);
  }

  /** Opens, resets and negotiates, retrying transient failures within the budget; never once it is spent. */
  async start(): Promise<void> {
    if (Date.now() >= this.options.deadline) throw new BudgetExhaustedError(this.options.budgetSeconds, 'no time left to connect');
    for (;;) {
      await this.close();
      try {
        this.transport = await this.options.open(this.options.deadline);
        this.version = await this.resetAndNegotiate(this.transport);
        return;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        await this.pause(reasonOf(err));
      }
    }
  }

  /**
   * Sends the reset line and the V2 probe in one write, then reads the host's answers, which
   * come in order after any stale lines meant for an earlier client. `V2_OK` anywhere means V2.
   * Any other complete answer to the probe means V1 (`FAILURE`, or `invalid command` from the
   * oldest agents): it is the line after our reset's `invalid command`. Stale input may look
   * the same, so a V1 verdict stands only when no further line follows within QUIET_MS.
   * A line that only ends in `invalid command` is our reset's answer behind a stale half line.
   */
  private async resetAndNegotiate(t: Transport): Promise<1 | 2> {
    await t.discardInput();
    await this.send(t, '\nNEGOTIATE V2\n');
    let previous: string | null = null;
    let line: string | null = await this.readLine(t, RESET_WAIT_MS);
    for (;;) {
      if (line === 'V2_OK') return 2;
      if (previous !== null && previous.endsWith('invalid command')) {
        const next = await this.lineWithin(t, QUIET_MS);
        if (next === null) return 1;
        previous = line;
        line = next;
        continue;
      }
      previous = line;
      line = await this.readLine(t, V1_WAIT_MS);
    }
  }

  /**
   * Runs the operations, each answered by its own reply, filled into `replies` as they come: when
   * it throws (the budget ran out), the replies it got are still there. On a V2 host they go out
   * in one write and replies are matched by request id (the host may answer in another order); on
   * a V1 host one at a time. A timeout or a lost connection resets and resends only the unanswered.
   */
  async requestAll(ops: Operation[], replies: Array<Reply | undefined> = ops.map(() => undefined)): Promise<Reply[]> {
    if (!this.transport) await this.start();
    for (;;) {
      const t = this.transport as Transport;
      try {
        if (this.version === 2) await this.exchangeV2(t, ops, replies);
        for (let i = 0; i < ops.length; i++) if (replies[i] === undefined) replies[i] = await this.exchangeV1(t, ops[i]);
        return replies as Reply[];
      } catch (err) {
        if (!isRetryable(err)) throw err;
        await this.pause(reasonOf(err));
        this.options.log?.('receive timeout, resetting protocol...');
        await this.start();
      }
    }
  }

  /** Sends every unanswered operation, each with a new request id, in one write; reads until each has its reply. */
  private async exchangeV2(t: Transport, ops: Operation[], replies: Array<Reply | undefined>): Promise<void> {
    const waiting = new Map<string, number>();
    const frames: string[] = [];
    ops.forEach((op, i) => {
      if (replies[i] !== undefined) return;
      let reqid = newRequestId();
      while (waiting.has(reqid)) reqid = newRequestId();
      waiting.set(reqid, i);
      frames.push(encodeRequest(op.code, reqid, op.code === 'KEYS' ? undefined : op.key, op.code === 'PUT' ? op.value : undefined));
    });
    if (frames.length > 0) await this.send(t, frames.join(''));
    while (waiting.size > 0) {
      const frame = parseFrame(await this.readLine(t, V2_WAIT_MS));
      const i = frame ? waiting.get(frame.reqid) : undefined;
      if (!frame || i === undefined) continue;
      waiting.delete(frame.reqid);
      if (frame.code === 'SUCCESS') replies[i] = { kind: 'success', value: frame.payload ?? Buffer.alloc(0) };
      else if (frame.code === 'NOTFOUND') replies[i] = { kind: 'notfound' };
      else replies[i] = { kind: 'failure', message: frame.payload?.toString('utf8') ?? '' };
    }
  }

  private async exchangeV1(t: Transport, op: Operation): Promise<Reply> {
    if (op.code === 'PUT' || op.code === 'DELETE') return { kind: 'unsupported' };
    await this.send(t, op.code === 'GET' ? encodeV1Request('GET', op.key) : encodeV1Request('KEYS'));
    const header = await this.readLine(t, V1_WAIT_MS);
    if (header === 'NOTFOUND') return { kind: 'notfound' };
    if (header === 'invalid command') return { kind: 'unsupported' };
    if (header !== 'SUCCESS') return { kind: 'failure', message: header };
    const body = new V1Body();
    while (!body.push(await this.readLine(t, V1_WAIT_MS))) {
      if (body.size > MAX_LINE_BYTES) throw new ReplyTooLongError(`the metadata service sent a V1 reply longer than ${MAX_LINE_BYTES / (1024 * 1024)} MiB`);
    }
    return { kind: 'success', value: Buffer.from(body.value(), 'latin1') };
  }

  async close(): Promise<void> {
    const t = this.transport;
    this.transport = null;
    await t?.close();
  }
}

/** 4 random bytes as 8 lower-case hex digits. */
export function newRequestId(): string {
  return platform.randomBytes(4).toString('hex');
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
