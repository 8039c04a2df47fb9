// The agent-side request parser against the agent's own regular expressions (docs/protocol.md §3 and §4) on
// seeded random and mutated lines, and its time against line length for the shapes that make
// those expressions backtrack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32Hex } from '../../lib/protocol/crc32';
import { decodeBase64Lenient } from '../../lib/protocol/base64';
import { frameLine } from '../../lib/protocol/v2';
import { AgentRequest, frameRequestId, parseRequestLine } from '../../lib/protocol/request';
import { DROPPED_FRAMES, PUT_THEN_DELETE, READ_ONLY_V2, V1 } from '../fixtures/server/agent-vectors';
import { fuzzSeed, Random } from '../support/random';

// The oracle: the agent's expressions, used as it uses them. Only ever given short lines here.
const COMMAND = /^(\S+)\s?(.*)/;
const FRAME_FIELDS = /\s*([0-9]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(.*)/;
const CODE_AND_PAYLOAD = /\s*(\S+)\s*(.*)/;

function agentParse(line: string): AgentRequest {
  const parts = COMMAND.exec(line.replace(/\s+$/, ''));
  if (!parts) return { kind: 'invalid' };
  const [, command, arg] = parts;
  if ((command === 'GET' || command === 'NEGOTIATE') && !arg) return { kind: 'invalid' };
  if (command !== 'V2') return { kind: 'v1', command, arg };
  const m = FRAME_FIELDS.exec(arg);
  if (!m) return { kind: 'dropped', reason: 'frame did not parse' };
  const [, length, crc, reqid, rest] = m;
  const body = `${reqid} ${rest}`;
  if (!(Number(length) > 0) || Number(length) !== body.length) return { kind: 'dropped', reason: `invalid length ${length}` };
  const ours = crc32Hex(body);
  if (crc !== ours) return { kind: 'dropped', reason: `crc mismatch (ours ${ours} theirs ${crc})` };
  const codeAndPayload = CODE_AND_PAYLOAD.exec(rest);
  if (!codeAndPayload) return { kind: 'dropped', reason: 'frame has no code' };
  return { kind: 'v2', reqid, code: codeAndPayload[1], payload: decodeBase64Lenient(codeAndPayload[2]).toString('utf8') };
}

function agentRequestId(line: string): string | null {
  const parts = COMMAND.exec(line);
  return parts?.[1] === 'V2' ? (FRAME_FIELDS.exec(parts[2])?.[3] ?? null) : null;
}

function assertSameAsAgent(line: string, note: string): void {
  assert.equal(parseRequestLine(line), agentParse(line), `${note}: ${JSON.stringify(line)}`);
  assert.is(frameRequestId(line), agentRequestId(line), `${note} (request id): ${JSON.stringify(line)}`);
}

const SPACES = [' ', '  ', '\t', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2000', '\u2028', '\u2029', '\u202f', '\u3000', '\ufeff', '\u180e', '\u200b'];
const PIECES = ['V2', 'V2 ', 'GET', 'NEGOTIATE', 'KEYS', 'PUT', '0', '7', '25', '00', 'a', 'f', 'g', 'F', 'c0eeb3c6', '0a1b2c3d', 'bnVt', '=', '!', 'é', '\u0000', ...SPACES];
const SEED = fuzzSeed(0x5dc8);
const SAMPLES = [...READ_ONLY_V2, ...PUT_THEN_DELETE, ...V1].map(([, request]) => request.replace(/\n$/, '')).concat(DROPPED_FRAMES.map((f) => f.replace(/\n$/, '')));

/** A frame around a random short body, so that length and CRC sometimes hold. */
function validFrame(random: Random): string {
  const words = Array.from({ length: random.below(4) }, () => Array.from({ length: 1 + random.below(6) }, () => random.pick(PIECES)).join(''));
  const reqid = random.below(2) ? '0a1b2c3d' : random.below(0x10000).toString(16);
  return frameLine([reqid, ...words].join(' ')).replace(/\n$/, '');
}

function mutate(line: string, random: Random): string {
  let out = line;
  for (let n = 1 + random.below(3); n > 0; n--) {
    const at = random.below(out.length + 1);
    const piece = random.pick(PIECES);
    const how = random.below(4);
    if (how === 0) out = out.slice(0, at) + piece + out.slice(at);
    else if (how === 1) out = out.slice(0, at) + out.slice(at + 1 + random.below(4));
    else if (how === 2) out = out.slice(0, at) + piece + out.slice(at + piece.length);
    else out = out.slice(0, at) + random.pick(SPACES).repeat(1 + random.below(3)) + out.slice(at);
  }
  return out;
}

test(`20,000 random and mutated lines parse as the agent parses them (seed ${SEED})`, () => {
  const random = new Random(SEED);
  for (let i = 0; i < 20_000; i++) {
    const kind = i % 4;
    let line: string;
    if (kind === 0) line = Array.from({ length: random.below(12) }, () => random.pick(PIECES)).join('');
    else if (kind === 1) line = validFrame(random);
    else if (kind === 2) line = mutate(validFrame(random), random);
    else line = mutate(random.pick(SAMPLES), random);
    assertSameAsAgent(line, `case ${i}`);
  }
});

test('every UTF-16 code unit as a separator, a command character and a trailing character', () => {
  const frame = frameLine('0a1b2c3d GET bnVt').replace(/\n$/, '');
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    assertSameAsAgent(`GET${ch}x${ch}`, `U+${c.toString(16)}`);
    assertSameAsAgent(`V2${ch}${frame.slice(3).replace(/ /g, ch)}`, `U+${c.toString(16)}`);
    assertSameAsAgent(`V${ch} x`, `U+${c.toString(16)}`);
  }
});

test('frames with junk before the length: the leftmost match wins, as in the unanchored expression', () => {
  const body = '0a1b2c3d GET bnVt';
  const tail = `${body.length} ${crc32Hex(body)} ${body}`;
  for (const junk of ['hello ', 'x1 ', 'a12', '1a ', '9 zz ', '12 ab ', '12 ab cd', ' 3 \t', '007']) {
    assertSameAsAgent(`V2 ${junk}${tail}`, junk);
  }
});

/** The fastest of `runs` parses of `line`, in ms: load from elsewhere only ever adds time. */
function parseTime(line: string, runs = 7): number {
  let fastest = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    parseRequestLine(line);
    frameRequestId(line.slice(0, 256));
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - started) / 1e6);
  }
  return fastest;
}

const WORST_SHAPES: Array<[string, (n: number) => string]> = [
  ['GET + spaces + x', (n) => `GET ${' '.repeat(n)}x`],
  ['KEYS + tabs + x', (n) => `KEYS${'\t'.repeat(n)}x`],
  ['V2 + digits', (n) => `V2 ${'7'.repeat(n)}`],
  ['V2 + spaces + 1x', (n) => `V2 ${' '.repeat(n)}1x`],
  ['V2 + digits + space + hex', (n) => `V2 ${'1'.repeat(n / 2)} ${'a'.repeat(n / 2)}`],
  ['a valid frame with a long payload', (n) => frameLine(`0a1b2c3d PUT ${'QUFB'.repeat(n / 4)}`).replace(/\n$/, '')],
];

for (const [shape, make] of WORST_SHAPES) {
  test(`parse time is linear: ${shape}, 10k and 100k characters`, () => {
    parseTime(make(1000));
    const small = parseTime(make(10_000));
    const large = parseTime(make(100_000));
    // Linear: about 10; quadratic: about 100. (Sizes that stay in the young generation and the caches.)
    assert.ok(large / Math.max(small, 0.02) < 30, `${shape}: ${small.toFixed(3)} ms for 10k, ${large.toFixed(3)} ms for 100k`);
  });
}

test.run();
