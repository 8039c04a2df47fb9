import { test } from 'uvu';
import * as assert from 'uvu/assert';
import vectors from '../fixtures/v2-vectors.json';
import { crc32Hex } from '../../lib/protocol/crc32';
import { decodeBase64Lenient, decodeBase64Strict } from '../../lib/protocol/base64';
import { encodeFrame, encodeRequest, frameLine, parseFrame } from '../../lib/protocol/v2';
import { newRequestId } from '../../lib/client/metadata-client';
import { encodeV1Request, encodeV1Success, V1Body } from '../../lib/protocol/v1';

test('crc32 check value', () => {
  assert.is(crc32Hex('123456789'), 'cbf43926');
});

for (const v of vectors.frames) {
  test(`vector ${v.n}: ${v.description}`, () => {
    assert.is(v.body.length, v.length);
    assert.is(crc32Hex(v.body), v.crc);
    const [reqid, code, b64] = v.body.split(' ');
    const payload = b64 === undefined ? null : decodeBase64Strict(b64);
    assert.is(encodeFrame(reqid, code, payload), v.frame);
    const parsed = parseFrame(v.frame.slice(0, -1));
    assert.ok(parsed, 'frame parses');
    assert.is(parsed!.reqid, reqid);
    assert.is(parsed!.code, code);
    assert.equal(parsed!.payload, payload);
  });
}

for (const v of vectors.rejected) {
  test(`rejected frame: ${v.why}`, () => {
    assert.is(parseFrame(v.frame.slice(0, -1)), null);
  });
}

test('request encoders reproduce the frames captured from the C client', () => {
  assert.is(encodeRequest('GET', '0a1b2c3d', 'sdc:uuid'), 'V2 25 c0eeb3c6 0a1b2c3d GET c2RjOnV1aWQ=\n');
  assert.is(encodeRequest('KEYS', 'deadbeef'), 'V2 13 b7bad118 deadbeef KEYS\n');
  assert.is(encodeRequest('PUT', 'cafe0001', 'foo', 'bar'), 'V2 25 7c1c47d3 cafe0001 PUT Wm05diBZbUZ5\n');
  assert.is(encodeRequest('PUT', 'cafe0002', 'my key', 'hello\nworld\n'), 'V2 49 a2c21679 cafe0002 PUT YlhrZ2EyVjUgYUdWc2JHOEtkMjl5YkdRSw==\n');
  assert.is(encodeRequest('DELETE', 'cafe0003', 'foo'), 'V2 20 344b049c cafe0003 DELETE Zm9v\n');
  assert.is(encodeRequest('GET', '0badf00d', 'sdc:nics.0.ip'), 'V2 33 e71454c7 0badf00d GET c2RjOm5pY3MuMC5pcA==\n');
});

test('an empty payload is left out with its space', () => {
  assert.is(encodeRequest('GET', '12345678', ''), 'V2 12 ce19f5c9 12345678 GET\n');
});

test('request ids are 8 lower-case hex digits and vary', () => {
  const ids = new Set(Array.from({ length: 50 }, newRequestId));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}$/);
  assert.ok(ids.size > 45);
});

test('strict base64 rejects what the C client rejects', () => {
  for (const bad of ['Zm9', 'Z===', '=m9v', 'Zm=v', 'Zm 9v', 'Zm9v\n']) assert.is(decodeBase64Strict(bad), null, bad);
  assert.equal(decodeBase64Strict('Zm9v'), Buffer.from('foo'));
  assert.equal(decodeBase64Lenient('Zm9v!!'), Buffer.from('foo'));
});

test('parseFrame rejects CRLF, zero length and non-base64 payloads', () => {
  assert.is(parseFrame('V2 29 004dda9e deadbeef SUCCESS Zm9vCmJhcg==\r'), null);
  assert.is(parseFrame('V2 0 00000000 '), null);
  const body = 'abcdef12 SUCCESS !!!!';
  assert.is(parseFrame(frameLine(body).slice(0, -1)), null);
});

test('V1 requests and dot-stuffed replies', () => {
  assert.is(encodeV1Request('GET', 'user-script'), 'GET user-script\n');
  assert.is(encodeV1Request('KEYS'), 'KEYS\n');
  assert.is(encodeV1Success('#!/bin/sh\necho hi\n'), 'SUCCESS\n#!/bin/sh\necho hi\n\n.\n');
  assert.is(encodeV1Success('.leading dot\n..two dots\nplain'), 'SUCCESS\n..leading dot\n...two dots\nplain\n.\n');
  assert.is(encodeV1Success(''), 'SUCCESS\n\n.\n');
});

function readV1(reply: string): string {
  const lines = reply.split('\n');
  assert.is(lines.shift(), 'SUCCESS');
  const body = new V1Body();
  for (const line of lines) if (body.push(line)) break;
  assert.ok(body.done);
  return body.value();
}

test('V1 bodies round-trip, including leading empty lines the C client loses', () => {
  for (const v of ['#!/bin/sh\necho hi\n', '.leading dot\n..two dots\nplain', '', '\nx', 'abc', '.\n.', 'a\n\n\nb\n']) {
    assert.is(readV1(encodeV1Success(v)), v, JSON.stringify(v));
  }
});

test.run();
