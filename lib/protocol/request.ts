import { crc32Hex } from './crc32';
import { decodeBase64Lenient } from './base64';

/**
 * A request line as the host agent reads it (docs/protocol.md §3 and §4):
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

// The agent reads lines with regular expressions; the scanners below give the same results in
// time linear in the line's length (a backtracking regular expression over a long line of spaces
// or digits takes time quadratic in it). What the agent's expressions were, and what each scanner
// stands for:
//   right trim         /\s+$/
//   command, argument  /^(\S+)\s?(.*)/
//   frame fields       /\s*([0-9]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(.*)/   (not anchored)
//   code, payload      /\s*(\S+)\s*(.*)/

/** JavaScript's `\s`: white space and line terminators. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** What `.` does not match. */
function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLowerHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66);

function skipSpace(text: string, from: number): number {
  while (from < text.length && isSpace(text.charCodeAt(from))) from++;
  return from;
}

function skipNonSpace(text: string, from: number): number {
  while (from < text.length && !isSpace(text.charCodeAt(from))) from++;
  return from;
}

/** `/^(\S+)\s?(.*)/`: the command and the argument, which ends at the first line terminator. */
function splitCommand(line: string): { command: string; arg: string } | null {
  const commandEnd = skipNonSpace(line, 0);
  if (commandEnd === 0) return null;
  const argStart = Math.min(commandEnd + 1, line.length);
  let argEnd = argStart;
  while (argEnd < line.length && !isLineTerminator(line.charCodeAt(argEnd))) argEnd++;
  return { command: line.slice(0, commandEnd), arg: line.slice(argStart, argEnd) };
}

interface FrameFields {
  length: string;
  crc: string;
  reqid: string;
  rest: string;
}

/**
 * The frame-field expression, not anchored, over an argument (which has no line terminators).
 * Its leftmost match is at the first whitespace-separated token that ends in digits and is
 * followed by two all-hex tokens and whitespace: the length is that token's digit suffix, the
 * crc and reqid the two tokens, the rest what follows the whitespace after the reqid. Each
 * token is looked at no more than three times.
 */
function frameFields(text: string): FrameFields | null {
  const tokenAt = (from: number) => {
    const start = skipSpace(text, from);
    return start < text.length ? { start, end: skipNonSpace(text, start) } : null;
  };
  const allHex = (token: { start: number; end: number }) => {
    for (let i = token.start; i < token.end; i++) if (!isLowerHex(text.charCodeAt(i))) return false;
    return true;
  };
  let a = tokenAt(0);
  let b = a && tokenAt(a.end);
  let c = b && tokenAt(b.end);
  while (a && b && c) {
    if (isDigit(text.charCodeAt(a.end - 1)) && c.end < text.length && allHex(b) && allHex(c)) {
      let digits = a.end - 1;
      while (digits > a.start && isDigit(text.charCodeAt(digits - 1))) digits--;
      return {
        length: text.slice(digits, a.end),
        crc: text.slice(b.start, b.end),
        reqid: text.slice(c.start, c.end),
        rest: text.slice(skipSpace(text, c.end)),
      };
    }
    [a, b, c] = [b, c, tokenAt(c.end)];
  }
  return null;
}

/** Parse one request line (without its LF) the way the reference agent does. */
export function parseRequestLine(line: string): AgentRequest {
  let end = line.length;
  while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--;
  const parts = splitCommand(line.slice(0, end));
  if (!parts) return { kind: 'invalid' };
  const { command, arg } = parts;
  if ((command === 'GET' || command === 'NEGOTIATE') && !arg) return { kind: 'invalid' };
  if (command !== 'V2') return { kind: 'v1', command, arg };
  return parseRequestFrame(arg);
}

/** The request id of a line that starts like a V2 frame, even one cut short; null otherwise. */
export function frameRequestId(line: string): string | null {
  const parts = splitCommand(line);
  return parts?.command === 'V2' ? (frameFields(parts.arg)?.reqid ?? null) : null;
}

/** The part of a V2 request line after `V2` and one whitespace character. */
function parseRequestFrame(text: string): AgentRequest {
  const fields = frameFields(text);
  if (!fields) return { kind: 'dropped', reason: 'frame did not parse' };
  const { length, crc, reqid, rest } = fields;
  const body = `${reqid} ${rest}`;
  if (!(Number(length) > 0) || Number(length) !== body.length) {
    return { kind: 'dropped', reason: `invalid length ${length}` };
  }
  const ours = crc32Hex(body);
  if (crc !== ours) return { kind: 'dropped', reason: `crc mismatch (ours ${ours} theirs ${crc})` };
  // The code is the first token of the rest, which starts with one; the payload follows its whitespace.
  if (rest === '') return { kind: 'dropped', reason: 'frame has no code' };
  const codeEnd = skipNonSpace(rest, 0);
  const payload = decodeBase64Lenient(rest.slice(skipSpace(rest, codeEnd))).toString('utf8');
  return { kind: 'v2', reqid, code: rest.slice(0, codeEnd), payload };
}
