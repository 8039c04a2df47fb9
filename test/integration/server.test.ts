import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, encodeRequest, frameLine as frame, parseFrame } from '../../lib/protocol/v2';
import { withTimeLimit } from '../../lib/time-limit';
import { DROPPED_FRAMES, PUT_THEN_DELETE, READ_ONLY_V2, V1 } from '../fixtures/server/agent-vectors';
import { Client, killServers, RunningServer, runServer, seedDir, startServer, stopServer } from '../support/mdata-server';

const WORK = mkdtempSync(join(tmpdir(), 'mdata-server-test-'));
let shared: RunningServer;
let sharedSocket: string;

test('start a server on a unix socket', async () => {
  const seed = seedDir(WORK);
  sharedSocket = seed.socket;
  shared = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--vm', seed.vm, '--max-connections', '128']);
  assert.match(shared.stderr(), `mdata-server: listening on ${seed.socket}`);
});

test('the agent vectors, byte-exact, on one connection', async () => {
  const client = await Client.connect(sharedSocket);
  for (const [what, request, response] of [...READ_ONLY_V2, ...V1]) {
    assert.is(await client.ask(request, response), response, what);
  }
  client.close();
});

test('requests captured from the C client', async () => {
  const client = await Client.connect(sharedSocket);
  const uuid = encodeFrame('454f018a', 'SUCCESS', '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f');
  assert.is(await client.ask('V2 25 7955bca4 454f018a GET c2RjOnV1aWQ=\n', uuid), uuid);
  const keys = encodeFrame('a7eddf0d', 'SUCCESS', 'user-script\nroot_authorized_keys\ndotty\nnum\nempty\nroot_pw\ndocker:cmd');
  assert.is(await client.ask('V2 13 0bbccc68 a7eddf0d KEYS\n', keys), keys);
  const routes = encodeFrame('d2a2a4ca', 'SUCCESS', JSON.stringify(JSON.parse(Buffer.from(READ_ONLY_V2[13][2].split(' ')[5], 'base64').toString())));
  assert.is(await client.ask('V2 29 ae9f5912 d2a2a4ca GET c2RjOnJvdXRlcw==\n', routes), routes);
  client.close();
});

test('malformed frames get no response (the next probe line is answered first)', async () => {
  const client = await Client.connect(sharedSocket);
  for (const frame of DROPPED_FRAMES) {
    assert.is(await client.ask(`${frame}\n`, 'invalid command\n'), 'invalid command\n', frame);
  }
  client.close();
});

test('edge cases over the socket: V2 lower-case code, undecodable and unpadded payloads, two requests in one write', async () => {
  const client = await Client.connect(sharedSocket);
  const lower = encodeFrame('00000002', 'FAILURE', 'Unknown command get');
  assert.is(await client.ask(frame('00000002 get bnVt'), lower), lower);
  const invalid = encodeFrame('00000003', 'FAILURE', 'Invalid GET Request');
  assert.is(await client.ask(frame('00000003 GET !!!!'), invalid), invalid);
  const unpadded = encodeFrame('00000004', 'SUCCESS', '7b7b0c3e-5b6a-4c3e-9f0e-1a2b3c4d5e6f');
  assert.is(await client.ask(frame('00000004 GET c2RjOnV1aWQ'), unpadded), unpadded);
  const both = 'SUCCESS\n42\n.\n' + encodeFrame('00000005', 'SUCCESS', '42');
  assert.is(await client.ask('GET num\n' + frame('00000005 GET bnVt'), both), both);
  const crlf = encodeFrame('00000006', 'SUCCESS', '42');
  assert.is(await client.ask(frame('00000006 GET bnVt').replace('\n', '\r\n'), crlf), crlf);
  client.close();
});

test('a request written one byte at a time, UTF-8 split across writes', async () => {
  const client = await Client.connect(sharedSocket);
  const request = Buffer.from('GET sdc:tags.a.b\n');
  const reply = client.until((t) => t.endsWith('\n.\n'));
  for (const byte of request) {
    client.send(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  assert.is(await reply, 'SUCCESS\ndotted tag\n.\n');
  client.close();
});

test('binary garbage and NULs get answers and leave the server serving', async () => {
  const client = await Client.connect(sharedSocket);
  const garbage = Buffer.from([0, 0xff, 0xfe, 0x0a, 0x56, 0x32, 0x20, 0x00, 0x0d, 0x0a, 0x80, 0x81, 0x20, 0x47, 0x0a, 0x1b, 0x5b, 0x41, 0x0a]);
  client.send(garbage);
  client.send('GET num\n');
  const text = await client.until((t) => t.endsWith('SUCCESS\n42\n.\n'));
  assert.ok(text.endsWith('SUCCESS\n42\n.\n'), JSON.stringify(text));
  client.close();
});

test('100 concurrent clients all get correct answers', async () => {
  const clients = await Promise.all(Array.from({ length: 100 }, () => Client.connect(sharedSocket)));
  const answers = await Promise.all(
    clients.map(async (client, i) => {
      const reqid = (0x1000 + i).toString(16).padStart(8, '0');
      const expected = encodeFrame(reqid, 'SUCCESS', '#!/bin/sh\necho hi\n');
      const replies: string[] = [];
      for (let n = 0; n < 5; n++) replies.push(await client.ask(encodeRequest('GET', reqid, 'user-script'), expected));
      client.close();
      return replies.every((r) => r === expected);
    }),
  );
  assert.is(answers.filter(Boolean).length, 100);
});

test('SIGTERM closes the server cleanly and removes its socket', async () => {
  assert.is(await stopServer(shared), 0);
  assert.not.ok(existsSync(sharedSocket));
});

test('PUT and DELETE are on disk before the reply', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--vm', seed.vm]);
  const client = await Client.connect(seed.socket);
  const customer = () => JSON.parse(readFileSync(seed.metadata, 'utf8')).customer_metadata;
  const internal = () => JSON.parse(readFileSync(seed.metadata, 'utf8')).internal_metadata;

  assert.is(await client.ask(PUT_THEN_DELETE[0][1], PUT_THEN_DELETE[0][2]), PUT_THEN_DELETE[0][2]);
  assert.is(customer().foo, 'bar');
  assert.is(await client.ask('GET foo\n', 'SUCCESS\nbar\n.\n'), 'SUCCESS\nbar\n.\n');
  assert.is(await client.ask(PUT_THEN_DELETE[1][1], PUT_THEN_DELETE[1][2]), PUT_THEN_DELETE[1][2]);
  assert.is(customer().foo, undefined);
  assert.is(customer()['user-script'], '#!/bin/sh\necho hi\n');

  const ok = (id: string) => encodeFrame(id, 'SUCCESS', 'OK');
  assert.is(await client.ask(encodeRequest('PUT', '00000001', '  café key  ', 'crème\n'), ok('00000001')), ok('00000001'));
  assert.is(customer()['café key'], 'crème\n');
  assert.is(await client.ask(encodeRequest('PUT', '00000002', 'operator-script', '#!/bin/sh\n'), ok('00000002')), ok('00000002'));
  assert.is(internal()['operator-script'], '#!/bin/sh\n');
  assert.is(await client.ask(encodeRequest('PUT', '00000003', 'new_pw', 'pw'), ok('00000003')), ok('00000003'));
  assert.is(internal().new_pw, 'pw');
  assert.is(await client.ask(frame('00000004 PUT ' + Buffer.from('ZW1wdHk= =').toString('base64')), ok('00000004')), ok('00000004'));
  assert.is(customer().empty, undefined, 'a value that decodes to nothing deletes the key');
  const big = 'x'.repeat(1024 * 1024);
  assert.is(await client.ask(encodeRequest('PUT', '00000005', 'big', big), ok('00000005')), ok('00000005'));
  const bigReply = encodeFrame('00000006', 'SUCCESS', big);
  assert.is(await client.ask(encodeRequest('GET', '00000006', 'big'), bigReply), bigReply);
  const put = (key: string) => encodeFrame('00000007', 'FAILURE', `Cannot update the "${key}" Namespace.`);
  assert.is(await client.ask(encodeRequest('PUT', '00000007', 'docker:x', 'y'), put('docker')), put('docker'));
  const del = encodeFrame('00000008', 'FAILURE', 'Invalid DELETE Request');
  assert.is(await client.ask(frame('00000008 DELETE'), del), del);
  client.close();
  assert.is(await stopServer(server), 0);
});

test('kill -9 during a PUT storm leaves valid JSON with the old or a newer value per key', async () => {
  for (let round = 0; round < 3; round++) {
    const seed = seedDir(WORK);
    const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--quiet']);
    const clients = await Promise.all(Array.from({ length: 8 }, () => Client.connect(seed.socket)));
    const acked = new Array<number>(clients.length).fill(-1);
    const sent = new Array<number>(clients.length).fill(-1);
    const ACK = encodeFrame('00000000', 'SUCCESS', 'OK');
    let running = true;
    const storms = clients.map(async (client, i) => {
      for (let n = 0; running; n++) {
        sent[i] = n;
        const reqid = (n % 0xffffff).toString(16).padStart(8, '0');
        const reply = await client.ask(encodeRequest('PUT', reqid, `k${i}`, `${n}:${'v'.repeat(i * 1000)}`), ACK);
        if (!parseFrame(reply.replace(/\n$/, ''))) return;
        acked[i] = n;
      }
    });
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
    server.child.kill('SIGKILL');
    running = false;
    await server.exited;
    await Promise.all(storms);
    const doc = JSON.parse(readFileSync(seed.metadata, 'utf8'));
    assert.is(doc.customer_metadata['user-script'], '#!/bin/sh\necho hi\n');
    clients.forEach((client, i) => {
      client.close();
      const value: string | undefined = doc.customer_metadata[`k${i}`];
      const stored = value === undefined ? -1 : Number(value.split(':')[0]);
      assert.ok(stored >= acked[i] && stored <= sent[i], `round ${round} k${i}: stored ${stored}, acked ${acked[i]}, sent ${sent[i]}`);
      if (value !== undefined) assert.is(value, `${stored}:${'v'.repeat(i * 1000)}`);
    });
    assert.ok(acked.some((n) => n >= 0), 'some PUTs completed before the kill');
  }
});

test('an over-long line gets FAILURE and the server lives on', async () => {
  const seed = seedDir(WORK);
  const server = await startServer(['--socket', seed.socket, '--metadata', seed.metadata, '--max-line', '1024']);
  const client = await Client.connect(seed.socket);
  assert.is(await client.ask('GET ' + 'a'.repeat(5000) + '\n', 'FAILURE\n'), 'FAILURE\n');
  client.send('GET ' + 'b'.repeat(600));
  client.send('c'.repeat(600));
  assert.is(await client.ask('d\nGET num\n', 'FAILURE\nSUCCESS\n42\n.\n'), 'FAILURE\nSUCCESS\n42\n.\n');
  const long = encodeRequest('PUT', 'abcdef01', 'k', 'v'.repeat(2000));
  const failure = encodeFrame('abcdef01', 'FAILURE', 'Request line longer than 1024 bytes');
  assert.is(await client.ask(long, failure), failure);
  assert.is(await client.ask('GET num\n', 'SUCCESS\n42\n.\n'), 'SUCCESS\n42\n.\n');
  client.close();
  assert.match(server.stderr(), 'request line longer than 1024 bytes discarded');
  assert.is(await stopServer(server), 0);
});

test('a null value answers FAILURE without crashing', async () => {
  const dir = join(WORK, 'null');
  mkdirSync(dir);
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ customer_metadata: { nothing: null, list: [], n: 0 }, internal_metadata: {} }));
  const server = await startServer(['--socket', join(dir, 's.sock'), '--metadata', join(dir, 'metadata.json')]);
  const client = await Client.connect(join(dir, 's.sock'));
  assert.is(await client.ask('GET nothing\n', 'FAILURE\n'), 'FAILURE\n');
  const v2 = encodeFrame('00000001', 'FAILURE');
  assert.is(await client.ask(encodeRequest('GET', '00000001', 'nothing'), v2), v2);
  assert.is(await client.ask('GET list\n', 'FAILURE\n'), 'FAILURE\n');
  assert.is(await client.ask('GET n\n', 'SUCCESS\n0\n.\n'), 'SUCCESS\n0\n.\n');
  assert.is(await client.ask('GET sdc:uuid\n', 'NOTFOUND\n'), 'NOTFOUND\n');
  client.close();
  assert.is(await stopServer(server), 0);
});

test('bad input files exit 2 with one line; usage errors exit 3', async () => {
  const dir = join(WORK, 'bad');
  mkdirSync(dir);
  const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const badJson = write('bad.json', '{"customer_metadata": ');
  const array = write('array.json', '[]');
  const badMap = write('badmap.json', '{"customer_metadata": "x"}');
  const badNs = write('badns.json', '{"internal_metadata_namespaces": [1]}');
  const good = write('good.json', '{"customer_metadata": {}}');
  const sock = join(dir, 's.sock');
  const cases: Array<[string[], number, RegExp]> = [
    [['--socket', sock, '--metadata', badJson], 2, /invalid JSON/],
    [['--socket', sock, '--metadata', array], 2, /not a JSON object/],
    [['--socket', sock, '--metadata', badMap], 2, /customer_metadata is not an object/],
    [['--socket', sock, '--metadata', badNs], 2, /internal_metadata_namespaces/],
    [['--socket', sock, '--metadata', join(dir, 'missing.json')], 2, /cannot read/],
    [['--socket', sock, '--metadata', good, '--vm', badJson], 2, /invalid JSON/],
    [['--socket', good, '--metadata', good], 2, /exists and is not a socket/],
    [['--zones-root', join(dir, 'nowhere')], 2, /cannot read/],
    [['--zones-root', dir], 2, /no servable zones/],
    [['--socket', sock, '--metadata', good, '--frob'], 3, /unknown option --frob/],
    [['--metadata', good], 3, /exactly one of/],
    [['--socket', sock, '--connect', sock, '--metadata', good], 3, /exactly one of/],
    [['--socket', sock], 3, /needs --metadata/],
    [['--socket', sock, '--metadata', good, '--max-line', '0'], 3, /--max-line/],
    [['--socket'], 3, /needs a value/],
  ];
  const results = await Promise.all(cases.map(([args]) => runServer(args)));
  results.forEach((result, i) => {
    const [args, code, message] = cases[i];
    assert.is(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.split('\n')[0], message);
    if (code === 2) assert.is(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  });
  const [help, version] = await Promise.all([runServer(['--help']), runServer(['--version'])]);
  assert.is(help.code, 0);
  assert.match(help.stdout, '--zones-root DIR');
  assert.match(version.stdout, /^mdata-server \d+\.\d+\.\d+/);
});

test('--connect: waits for the chardev socket, serves it, reconnects after it goes away', async () => {
  const dir = seedDir(WORK);
  const chardev = join(dir.dir, 'vm.ttyb');
  const server = await startServer(['--connect', chardev, '--metadata', dir.metadata, '--vm', dir.vm], /waiting for/);

  const listen = () =>
    new Promise<{ listener: Server; guest: Promise<Client> }>((resolve) => {
      let accept!: (c: Client) => void;
      const guest = new Promise<Client>((r) => (accept = r));
      const listener = createServer((socket) => accept(Client.wrap(socket)));
      listener.listen(chardev, () => resolve({ listener, guest }));
    });
  const within = <T>(p: Promise<T>, ms: number) =>
    withTimeLimit(p, ms, () => {
      throw new Error(`not within ${ms} ms`);
    });

  for (let round = 0; round < 2; round++) {
    const { listener, guest } = await listen();
    const client = await within(guest, 5000);
    assert.is(await client.ask('\n', 'invalid command\n'), 'invalid command\n');
    const uuid = READ_ONLY_V2[0];
    assert.is(await client.ask(uuid[1], uuid[2]), uuid[2]);
    client.close();
    await new Promise<void>((r) => listener.close(() => r()));
    rmSync(chardev, { force: true });
  }
  assert.match(server.stderr(), `connected to ${chardev}`);
  assert.match(server.stderr(), `disconnected from ${chardev}`);
  assert.is(await stopServer(server), 0);
});

test('--zones-root: each zone sees only its own data; a PUT changes only its own file', async () => {
  const root = join(WORK, 'zones');
  const zone = (name: string, metadata: object, vm?: object) => {
    mkdirSync(join(root, name, 'config'), { recursive: true });
    writeFileSync(join(root, name, 'config', 'metadata.json'), JSON.stringify(metadata));
    if (vm) writeFileSync(join(root, name, 'config', 'vm.json'), JSON.stringify(vm));
  };
  zone('alpha', { customer_metadata: { who: 'alpha', only_alpha: '1' }, internal_metadata: {} }, { uuid: 'aaaa' });
  zone('beta', { customer_metadata: { who: 'beta' }, internal_metadata: {} });
  mkdirSync(join(root, 'not-a-zone'));
  const server = await startServer(['--zones-root', root]);
  assert.match(server.stderr(), 'serving 2 zones');
  const alpha = await Client.connect(join(root, 'alpha', 'metadata.sock'));
  const beta = await Client.connect(join(root, 'beta', 'metadata.sock'));
  assert.is(await alpha.ask('GET who\n', 'SUCCESS\nalpha\n.\n'), 'SUCCESS\nalpha\n.\n');
  assert.is(await beta.ask('GET who\n', 'SUCCESS\nbeta\n.\n'), 'SUCCESS\nbeta\n.\n');
  assert.is(await beta.ask('GET only_alpha\n', 'NOTFOUND\n'), 'NOTFOUND\n');
  assert.is(await alpha.ask('GET sdc:uuid\n', 'SUCCESS\naaaa\n.\n'), 'SUCCESS\naaaa\n.\n');
  assert.is(await beta.ask('GET sdc:uuid\n', 'NOTFOUND\n'), 'NOTFOUND\n');
  const betaBefore = readFileSync(join(root, 'beta', 'config', 'metadata.json'), 'utf8');
  const ok = encodeFrame('00000001', 'SUCCESS', 'OK');
  assert.is(await alpha.ask(encodeRequest('PUT', '00000001', 'who', 'alpha2'), ok), ok);
  assert.is(JSON.parse(readFileSync(join(root, 'alpha', 'config', 'metadata.json'), 'utf8')).customer_metadata.who, 'alpha2');
  assert.is(readFileSync(join(root, 'beta', 'config', 'metadata.json'), 'utf8'), betaBefore);
  assert.is(await beta.ask('GET who\n', 'SUCCESS\nbeta\n.\n'), 'SUCCESS\nbeta\n.\n');
  assert.is(await beta.ask('KEYS\n', 'SUCCESS\nwho\n.\n'), 'SUCCESS\nwho\n.\n');
  alpha.close();
  beta.close();
  assert.is(await stopServer(server), 0);
});

test.after(() => {
  killServers();
  rmSync(WORK, { recursive: true, force: true });
});

test.run();
