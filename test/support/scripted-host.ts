import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRequestLine, type AgentRequest } from '../../lib/protocol/request';
import { LineSplitter } from '../../lib/server/session';
import { encodeFrame } from '../../lib/protocol/v2';
import { encodeV1Success } from '../../lib/protocol/v1';

type FrameRequest = Extract<AgentRequest, { kind: 'v2' }>;

/** How the host answers one V2 request; `null` keeps silent. The default is a correct reply. */
type FrameResponder = (req: FrameRequest, correct: string, socket: Socket, count: number) => string | null;

/**
 * How the host answers `NEGOTIATE V2`: `V2_OK` (a V2 host); `FAILURE` (a V1 host); `invalid
 * command` (the oldest V1 agents, which say that for every unknown command); or a line of its own.
 * V1 hosts answer a V2 frame the same way.
 */
export type Dialect = 'V2_OK' | 'FAILURE' | 'invalid command' | 'WHAT?';

export interface ScriptedHostOptions {
  values?: Record<string, string>;
  dialect?: Dialect;
  silent?: boolean;
  /** Request lines (the reset's empty line included) that get no answer at all, counted from the start. */
  ignoreFirstLines?: number;
  /** Sent just before the answer to every reset (empty) line: stale replies still in flight when a client resets. */
  staleBeforeReset?: string;
  /** How V1 `GET` is answered instead of a value: the oldest agents' `invalid command`, or `FAILURE`. */
  v1GetAnswer?: string;
  /** Called after that answer, to go on misbehaving (an endless body). */
  afterV1Get?: (socket: Socket) => void;
  respond?: FrameResponder;
  /** Sent as soon as a connection opens, before any request: stale bytes on the line. */
  onConnect?: string;
  /** Called after the host said V2_OK, to misbehave from then on. */
  afterNegotiate?: (socket: Socket) => void;
}

/**
 * A misbehaving metadata host for the client fault matrix, on a real unix socket. It speaks the
 * protocol well enough to answer, and the responder injects the faults a real host or line can have.
 */
export class ScriptedHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'mdata-host-'));
  readonly path = join(this.dir, 'metadata.sock');
  requests = 0;
  connections = 0;
  lines = 0;
  private server: Server;
  private sockets = new Set<Socket>();

  constructor(private readonly options: ScriptedHostOptions) {
    this.server = createServer((socket) => this.serve(socket));
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.path, () => resolve(this)));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) =>
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        resolve();
      }),
    );
  }

  private serve(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.options.onConnect) socket.write(this.options.onConnect);
    const lines = new LineSplitter(Infinity);
    socket.on('data', (chunk: Buffer) => {
      lines.push(chunk);
      for (let item = lines.next(); item && 'line' in item; item = lines.next()) this.handleLine(item.line.toString('utf8'), socket);
    });
  }

  /** Answers one request line (without its LF) into `socket`; in-memory transports pass a stream of their own. */
  handleLine(line: string, socket: Socket): void {
    if (this.options.silent || ++this.lines <= (this.options.ignoreFirstLines ?? 0)) return;
    const values = this.options.values ?? {};
    const dialect = this.options.dialect ?? 'V2_OK';
    const unknown = dialect === 'invalid command' ? 'invalid command\n' : 'FAILURE\n';
    const req = parseRequestLine(line);
    if (req.kind === 'invalid') return void socket.write(`${line === '' ? (this.options.staleBeforeReset ?? '') : ''}invalid command\n`);
    if (req.kind === 'dropped') return;
    if (req.kind === 'v1') {
      if (req.command === 'NEGOTIATE') {
        socket.write(`${dialect}\n`);
        return this.options.afterNegotiate?.(socket);
      }
      if (req.command === 'GET' && this.options.v1GetAnswer) {
        socket.write(`${this.options.v1GetAnswer}\n`);
        return this.options.afterV1Get?.(socket);
      }
      if (req.command === 'GET') return void socket.write(req.arg in values ? encodeV1Success(values[req.arg]) : 'NOTFOUND\n');
      if (req.command === 'KEYS') return void socket.write(encodeV1Success(Object.keys(values).join('\n')));
      return void socket.write(unknown);
    }
    if (dialect !== 'V2_OK') return void socket.write(unknown);
    this.requests++;
    const reply = (this.options.respond ?? ((_r, correct) => correct))(req, correctReply(req, values), socket, this.requests);
    if (reply !== null) socket.write(reply);
  }
}

/** Stale input a client may find on a shared serial line when it resets, by kind. */
export const STALE_INPUT: Record<string, string> = {
  none: '',
  'a whole V1 reply': 'SUCCESS\nold value\n.\n',
  'a V2 frame': encodeFrame('0badf00d', 'SUCCESS', 'stale frame'),
  'a stray invalid command': 'invalid command\n',
  'a half line': 'SUCC',
  'an invalid command and a NOTFOUND': 'invalid command\nNOTFOUND\n',
};

/** Writes `text` to the socket again and again, as fast as it is read, until the socket closes. */
export function flood(socket: Socket, text: string): void {
  const more = () => {
    while (!socket.destroyed && socket.write(text));
    if (!socket.destroyed) socket.once('drain', more);
  };
  setImmediate(more);
}

function correctReply(req: FrameRequest, values: Record<string, string>): string {
  if (req.code === 'GET') return req.payload in values ? encodeFrame(req.reqid, 'SUCCESS', values[req.payload]) : encodeFrame(req.reqid, 'NOTFOUND');
  if (req.code === 'KEYS') return encodeFrame(req.reqid, 'SUCCESS', Object.keys(values).join('\n'));
  return encodeFrame(req.reqid, 'SUCCESS', 'OK');
}
