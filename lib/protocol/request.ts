import { crc32Hex } from './crc32';
import { decodeBase64Lenient } from './base64';

/**
 * A request line as the host agent reads it (spec §3.1, §5.8):
 * - `invalid`: answer `invalid command`;
 * - `v1`: a plain command and its argument;
 * - `v2`: a frame that passed the length and CRC checks, payload decoded leniently;
 * - `dropped`: a malformed frame, which gets no response at all.
 */
export type AgentRequest =
  | { kind: 'invalid' }
  | { kind: 'v1'; command: string; arg: string }
  | { kind: 'v2'; reqid: string; code: string; payload: string }
  | { kind: 'dropped'; reason: string };

const COMMAND = /^(\S+)\s?(.*)/;
const FRAME_FIELDS = /\s*([0-9]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(.*)/;
const CODE_AND_PAYLOAD = /\s*(\S+)\s*(.*)/;

/** Parse one request line (without its LF) the way the reference agent does. */
export function parseRequestLine(line: string): AgentRequest {
  const parts = COMMAND.exec(line.replace(/\s+$/, ''));
  if (!parts) return { kind: 'invalid' };
  const [, command, arg] = parts;
  if ((command === 'GET' || command === 'NEGOTIATE') && !arg) return { kind: 'invalid' };
  if (command !== 'V2') return { kind: 'v1', command, arg };
  return parseRequestFrame(arg);
}

/** The request id of a line that starts like a V2 frame, even one cut short; null otherwise. */
export function frameRequestId(line: string): string | null {
  const parts = COMMAND.exec(line);
  return parts?.[1] === 'V2' ? (FRAME_FIELDS.exec(parts[2])?.[3] ?? null) : null;
}

/** The part of a V2 request line after `V2` and one whitespace character. */
function parseRequestFrame(text: string): AgentRequest {
  const m = FRAME_FIELDS.exec(text);
  if (!m) return { kind: 'dropped', reason: 'frame did not parse' };
  const [, length, crc, reqid, rest] = m;
  const body = `${reqid} ${rest}`;
  if (!(Number(length) > 0) || Number(length) !== body.length) {
    return { kind: 'dropped', reason: `invalid length ${length}` };
  }
  const ours = crc32Hex(body);
  if (crc !== ours) return { kind: 'dropped', reason: `crc mismatch (ours ${ours} theirs ${crc})` };
  const codeAndPayload = CODE_AND_PAYLOAD.exec(rest);
  if (!codeAndPayload) return { kind: 'dropped', reason: 'frame has no code' };
  const payload = decodeBase64Lenient(codeAndPayload[2]).toString('utf8');
  return { kind: 'v2', reqid, code: codeAndPayload[1], payload };
}
