import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRequestLine, type AgentRequest } from '../../lib/protocol/request';
import { LineSplitter } from '../../lib/server/session';
import { encodeFrame } from '../../lib/protocol/v2';
import { encodeV1Success } from '../../lib/protocol/v1';

export type FrameRequest = Extract<AgentRequest, { kind: 'v2' }>;

/** How the host answers one V2 request; `null` keeps silent. The default is a correct reply. */
export type FrameResponder = (req: FrameRequest, correct: string, socket: Socket, count: number) => string | null;

export interface ScriptedHostOptions {
  values?: Record<string, string>;
  v1Only?: boolean;
  silent?: boolean;
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
      for (let item = lines.next(); item && 'line' in item; item = lines.next()) this.answer(item.line.toString('utf8'), socket);
    });
  }

  private answer(line: string, socket: Socket): void {
    if (this.options.silent) return;
    const values = this.options.values ?? {};
    const req = parseRequestLine(line);
    if (req.kind === 'invalid') return void socket.write('invalid command\n');
    if (req.kind === 'dropped') return;
    if (req.kind === 'v1') {
      if (req.command === 'NEGOTIATE') {
        socket.write(this.options.v1Only ? 'FAILURE\n' : 'V2_OK\n');
        return this.options.afterNegotiate?.(socket);
      }
      if (req.command === 'GET') return void socket.write(req.arg in values ? encodeV1Success(values[req.arg]) : 'NOTFOUND\n');
      if (req.command === 'KEYS') return void socket.write(encodeV1Success(Object.keys(values).join('\n')));
      return void socket.write('FAILURE\n');
    }
    if (this.options.v1Only) return void socket.write('FAILURE\n');
    this.requests++;
    const reply = (this.options.respond ?? ((_r, correct) => correct))(req, correctReply(req, values), socket, this.requests);
    if (reply !== null) socket.write(reply);
  }
}

function correctReply(req: FrameRequest, values: Record<string, string>): string {
  if (req.code === 'GET') return req.payload in values ? encodeFrame(req.reqid, 'SUCCESS', values[req.payload]) : encodeFrame(req.reqid, 'NOTFOUND');
  if (req.code === 'KEYS') return encodeFrame(req.reqid, 'SUCCESS', Object.keys(values).join('\n'));
  return encodeFrame(req.reqid, 'SUCCESS', 'OK');
}
