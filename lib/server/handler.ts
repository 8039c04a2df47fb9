import { encodeV1Success } from '../protocol/v1';
import { encodeFrame } from '../protocol/v2';
import { decodeBase64Lenient } from '../protocol/base64';
import { frameRequestId, parseRequestLine } from '../protocol/request';
import type { Log } from './log';
import { MetadataStore } from './store';
import { encodeValue, internalNamespace, listKeys, lookup, mapForUpdate } from './vm-object';

/** What a request asks for and how it went, before it is written as V1 or V2. */
type Outcome = { value: string } | { failure: string | null } | 'notfound';

/**
 * Handle one request line (without its LF). Returns the response to write, or null for a
 * malformed frame, which the agent drops silently. PUT and DELETE resolve once persisted.
 */
export async function handleRequest(line: string, store: MetadataStore, log: Log): Promise<string | null> {
  const request = parseRequestLine(line);
  switch (request.kind) {
    case 'invalid':
      return 'invalid command\n';
    case 'dropped':
      log(`dropped V2 frame: ${request.reason}`);
      return null;
    case 'v1': {
      if (request.command === 'NEGOTIATE') return request.arg === 'V2' ? 'V2_OK\n' : 'FAILURE\n';
      const outcome = await execute(request.command, request.arg, store, false, log);
      if (outcome === 'notfound') return 'NOTFOUND\n';
      return 'value' in outcome ? encodeV1Success(outcome.value) : 'FAILURE\n';
    }
    case 'v2': {
      const outcome = await execute(request.code, request.payload, store, true, log);
      if (outcome === 'notfound') return encodeFrame(request.reqid, 'NOTFOUND');
      if ('value' in outcome) return encodeFrame(request.reqid, 'SUCCESS', outcome.value);
      return encodeFrame(request.reqid, 'FAILURE', outcome.failure);
    }
  }
}

/**
 * The answer to a line that was refused (too long), given its first bytes: a V2 FAILURE frame
 * with `reason` when the line starts like a frame (so the client sees its request id), else a
 * V1 `FAILURE`.
 */
export function refusedLineResponse(prefix: string, reason: string): string {
  const reqid = frameRequestId(prefix);
  return reqid ? encodeFrame(reqid, 'FAILURE', reason) : 'FAILURE\n';
}

async function execute(command: string, arg: string, store: MetadataStore, isV2: boolean, log: Log): Promise<Outcome> {
  if (command === 'GET') return get(arg.trim(), store);
  if (command === 'KEYS') return { value: listKeys(store.view()).join('\n') };
  if (isV2 && command === 'PUT') return put(arg, store, log);
  if (isV2 && command === 'DELETE') return remove(arg.trim(), store, log);
  log(`unknown command ${JSON.stringify(command.slice(0, 80))}`);
  return { failure: `Unknown command ${command}` };
}

function get(key: string, store: MetadataStore): Outcome {
  if (!key) return { failure: 'Invalid GET Request' };
  const found = lookup(store.view(), key);
  if ('failure' in found) return found;
  const encoded = encodeValue(found.value);
  return encoded === 'failure' ? { failure: null } : encoded;
}

function readOnlyFailure(key: string, store: MetadataStore): Outcome | null {
  if (key.startsWith('sdc:')) return { failure: 'Cannot update the "sdc" Namespace.' };
  const ns = internalNamespace(store.view(), key);
  return ns === null ? null : { failure: `Cannot update the "${ns}" Namespace.` };
}

function put(payload: string, store: MetadataStore, log: Log): Promise<Outcome> | Outcome {
  const terms = payload.trim().split(' ');
  if (terms.length !== 2) return { failure: 'Invalid PUT Request' };
  const key = decodeBase64Lenient(terms[0]).toString('utf8').trim();
  const value = decodeBase64Lenient(terms[1]).toString('utf8');
  if (!key) return { failure: 'Invalid PUT Request' };
  // An empty value removes the key, as in the agent.
  return readOnlyFailure(key, store) ?? persist(key, value || null, store, log);
}

function remove(key: string, store: MetadataStore, log: Log): Promise<Outcome> | Outcome {
  if (!key) return { failure: 'Invalid DELETE Request' };
  return readOnlyFailure(key, store) ?? persist(key, null, store, log);
}

async function persist(key: string, value: string | null, store: MetadataStore, log: Log): Promise<Outcome> {
  try {
    await store.update(mapForUpdate(key), key, value, log);
    return { value: 'OK' };
  } catch (err) {
    log(`cannot write ${store.path}: ${(err as Error).message}`);
    return { failure: `Cannot write metadata: ${(err as Error).message}` };
  }
}
