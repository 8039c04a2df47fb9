import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { crc32Hex as crcOf } from '../../lib/protocol/crc32';
import { frameLine } from '../../lib/protocol/v2';
import { parseRequestLine, AgentRequest } from '../../lib/protocol/request';
import { handleRequest } from '../../lib/server/handler';
import { MetadataStore } from '../../lib/server/store';
import type { JsonObject } from '../../lib/json';
import { buildRoutes, normaliseMac } from '../../lib/network/sdc';
import { DROPPED_FRAMES, READ_ONLY_V2, V1 } from '../fixtures/server/agent-vectors';

const FIXTURES = join(__dirname, '..', 'fixtures', 'server');
const frameOf = (body: string) => line(frameLine(body));
const line = (bytes: string) => bytes.replace(/\n$/, '');

const REQUEST_FRAMES: Array<[string, string, string, string]> = [
  // frame, reqid, code, decoded payload: the vector requests and those captured from the C client
  ['V2 25 c0eeb3c6 0a1b2c3d GET c2RjOnV1aWQ=', '0a1b2c3d', 'GET', 'sdc:uuid'],
  ['V2 29 af700bd1 12345678 GET dXNlci1zY3JpcHQ=', '12345678', 'GET', 'user-script'],
  ['V2 21 984bfd22 12345678 GET bm9zdWNo', '12345678', 'GET', 'nosuch'],
  ['V2 21 ac5f0d58 12345678 GET ZW1wdHk=', '12345678', 'GET', 'empty'],
  ['V2 13 b7bad118 deadbeef KEYS', 'deadbeef', 'KEYS', ''],
  ['V2 25 7c1c47d3 cafe0001 PUT Wm05diBZbUZ5', 'cafe0001', 'PUT', 'Zm9v YmFy'],
  ['V2 49 a2c21679 cafe0002 PUT YlhrZ2EyVjUgYUdWc2JHOEtkMjl5YkdRSw==', 'cafe0002', 'PUT', 'bXkga2V5 aGVsbG8Kd29ybGQK'],
  ['V2 20 344b049c cafe0003 DELETE Zm9v', 'cafe0003', 'DELETE', 'foo'],
  ['V2 37 0370dd51 cafe0004 PUT YzJSak9tRnNhV0Z6IGVBPT0=', 'cafe0004', 'PUT', 'c2RjOmFsaWFz eA=='],
  ['V2 13 6fb11735 00000001 FROB', '00000001', 'FROB', ''],
  ['V2 21 e39a38ef cafe0005 PUT Wm05diA=', 'cafe0005', 'PUT', 'Zm9v '],
  ['V2 33 e71454c7 0badf00d GET c2RjOm5pY3MuMC5pcA==', '0badf00d', 'GET', 'sdc:nics.0.ip'],
  ['V2 17 7c3f404c 12345678 GET bnVt', '12345678', 'GET', 'num'],
  ['V2 33 748b6137 00000112 GET c2RjOnJlc29sdmVycw==', '00000112', 'GET', 'sdc:resolvers'],
  ['V2 29 e27e2777 00000114 GET c2RjOnJvdXRlcw==', '00000114', 'GET', 'sdc:routes'],
  ['V2 29 ae9f5912 d2a2a4ca GET c2RjOnJvdXRlcw==', 'd2a2a4ca', 'GET', 'sdc:routes'],
  ['V2 12 ce19f5c9 12345678 GET', '12345678', 'GET', ''],
  ['V2 25 1fdf3c3f 00000117 GET c2RjOnRhZ3M=', '00000117', 'GET', 'sdc:tags'],
  ['V2 23 0fcfcf65 deadbeef NEGOTIATE VjI=', 'deadbeef', 'NEGOTIATE', 'V2'],
  ['V2 32 c7501c77 cafe0006 DELETE ZG9ja2VyOmNtZA==', 'cafe0006', 'DELETE', 'docker:cmd'],
  ['V2 25 7955bca4 454f018a GET c2RjOnV1aWQ=', '454f018a', 'GET', 'sdc:uuid'],
  ['V2 13 0bbccc68 a7eddf0d KEYS', 'a7eddf0d', 'KEYS', ''],
  ['V2 20 31434f98 b7ff99c3 DELETE Zm9v', 'b7ff99c3', 'DELETE', 'foo'],
  ['V2 33 96c7cc53 ba6be4de PUT Wm05diBkbUZzQ2c9PQ==', 'ba6be4de', 'PUT', 'Zm9v dmFsCg=='],
  // response frames are well-formed frames too
  ['V2 21 265ae1d8 dc4fae17 SUCCESS W10=', 'dc4fae17', 'SUCCESS', '[]'],
  ['V2 29 004dda9e deadbeef SUCCESS Zm9vCmJhcg==', 'deadbeef', 'SUCCESS', 'foo\nbar'],
  ['V2 25 3cb2cb52 abcdef02 SUCCESS Y2Fmw6k=', 'abcdef02', 'SUCCESS', 'café'],
];

for (const [frame, reqid, code, payload] of REQUEST_FRAMES) {
  test(`frame ${frame.slice(0, 40)}`, () => {
    assert.equal(parseRequestLine(frame), { kind: 'v2', reqid, code, payload });
  });
}

test('a CRLF frame is trimmed before the checks', () => {
  assert.equal(parseRequestLine('V2 17 7c3f404c 12345678 GET bnVt\r'), { kind: 'v2', reqid: '12345678', code: 'GET', payload: 'num' });
});

test('header whitespace runs are tolerated, body double spaces are not', () => {
  assert.is(parseRequestLine('V2  17\t7c3f404c   12345678 GET bnVt').kind, 'v2');
  assert.is(parseRequestLine('V2 18 ' + crcOf('12345678  GET bnVt') + ' 12345678  GET bnVt').kind, 'dropped');
});

test('unpadded and invalid base64 payloads decode leniently', () => {
  const unpadded = parseRequestLine(frameOf('12345678 GET c2RjOnV1aWQ'));
  assert.equal(unpadded, { kind: 'v2', reqid: '12345678', code: 'GET', payload: 'sdc:uuid' });
  const invalid = parseRequestLine(frameOf('12345678 GET !!!!'));
  assert.equal(invalid, { kind: 'v2', reqid: '12345678', code: 'GET', payload: '' });
});

for (const frame of DROPPED_FRAMES) {
  test(`dropped: ${JSON.stringify(frame)}`, () => {
    assert.is(parseRequestLine(line(frame)).kind, 'dropped');
  });
}

test('upper-case reqid and zero length are dropped', () => {
  assert.is(parseRequestLine(frameOf('ABCDEF12 GET bnVt')).kind, 'dropped');
  assert.is(parseRequestLine('V2 0 00000000 1 X').kind, 'dropped');
});

const V1_SPLITS: Array<[string, AgentRequest]> = [
  ['', { kind: 'invalid' }],
  ['\r', { kind: 'invalid' }],
  [' GET x', { kind: 'invalid' }],
  ['GET', { kind: 'invalid' }],
  ['GET ', { kind: 'invalid' }],
  ['NEGOTIATE', { kind: 'invalid' }],
  ['NEGOTIATE V2', { kind: 'v1', command: 'NEGOTIATE', arg: 'V2' }],
  ['GET  user-script', { kind: 'v1', command: 'GET', arg: ' user-script' }],
  ['GET\tmy key  ', { kind: 'v1', command: 'GET', arg: 'my key' }],
  ['KEYS', { kind: 'v1', command: 'KEYS', arg: '' }],
  ['PUT a b', { kind: 'v1', command: 'PUT', arg: 'a b' }],
];

for (const [text, expected] of V1_SPLITS) {
  test(`V1 split ${JSON.stringify(text)}`, () => {
    assert.equal(parseRequestLine(text), expected);
  });
}

const storeLoaded = MetadataStore.load(join(FIXTURES, 'metadata.json'), join(FIXTURES, 'vm.json'));
const quiet = () => undefined;

for (const [what, request, response] of [...READ_ONLY_V2, ...V1]) {
  test(`handler: ${what}`, async () => {
    assert.is(await handleRequest(line(request), await storeLoaded, quiet), response);
  });
}

for (const frame of DROPPED_FRAMES) {
  test(`handler drops ${JSON.stringify(frame)}`, async () => {
    assert.is(await handleRequest(line(frame), await storeLoaded, quiet), null);
  });
}

test('handler: the metadata file wins over the VM object maps', async () => {
  assert.is(await handleRequest('GET from-vm-file', await storeLoaded, quiet), 'NOTFOUND\n');
});

test('routes: nics[N] and macs[..] resolve, unusable link-local entries are skipped', () => {
  const vm: JsonObject = {
    nics: [{ ip: 'dhcp', mac: '0:1:2:3:4:5' }, { ip: '10.1.1.1', mac: '00-0A-0b-0c-0d-0e' }, { mac: 'aa:bb:cc:dd:ee:ff' }],
    routes: { a: 'nics[0]', b: 'macs[0:a:b:c:d:e]', c: 'nics[2]', d: 'macs[00:00:00:00:00:01]', e: 'macs[zz]', f: '1.2.3.4' },
  };
  assert.equal(buildRoutes(vm), [
    { linklocal: true, dst: 'b', gateway: '10.1.1.1' },
    { linklocal: false, dst: 'f', gateway: '1.2.3.4' },
  ]);
  assert.is(normaliseMac('90B8D0112233'), '90:b8:d0:11:22:33');
  assert.is(normaliseMac('1:2:3'), null);
});

test.run();
