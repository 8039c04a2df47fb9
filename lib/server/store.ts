import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../fs/atomic-write';
import { isObject, type Json, type JsonObject } from '../json';
import { SerialQueue } from '../serial-queue';
import type { Log } from './log';
import type { MetadataMap, VmView } from './vm-object';

/** A bad `--metadata` or `--vm` file: the tool exits 2 with this one-line message. */
export class InputError extends Error {}

async function readJsonObject(path: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (err) {
    throw new InputError(`${path}: invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new InputError(`${path}: not a JSON object`);
  for (const map of ['customer_metadata', 'internal_metadata']) {
    if (map in value && !isObject(value[map])) throw new InputError(`${path}: ${map} is not an object`);
  }
  const namespaces = value.internal_metadata_namespaces;
  if (namespaces !== undefined && !(Array.isArray(namespaces) && namespaces.every((ns) => typeof ns === 'string'))) {
    throw new InputError(`${path}: internal_metadata_namespaces is not an array of strings`);
  }
  return value;
}

/**
 * One VM's metadata: the metadata file (rewritten on PUT and DELETE) and the optional,
 * read-only VM object the `sdc:` keys come from.
 */
export class MetadataStore {
  /** Writes to the file one after another, so that they never interleave. */
  private readonly writes = new SerialQueue();

  private constructor(
    readonly path: string,
    private doc: JsonObject,
    private readonly vm: JsonObject,
  ) {}

  /**
   * Read the files. A symbolic link given as the metadata file is resolved here, once: PUT and
   * DELETE replace the file it points to. Temp files an earlier run left beside it are removed.
   */
  static async load(metadataPath: string, vmPath?: string, notice: Log = () => undefined): Promise<MetadataStore> {
    const path = await realpath(metadataPath).catch(() => metadataPath);
    const doc = await readJsonObject(path);
    const vm = vmPath === undefined ? {} : await readJsonObject(vmPath);
    for (const name of await removeStaleTemps(path)) notice(`removed stale temp file ${join(dirname(path), name)}`);
    return new MetadataStore(path, doc, vm);
  }

  /** The metadata file's maps win over the same maps in the VM object. */
  view(): VmView {
    const pick = (key: string) => this.doc[key] ?? this.vm[key];
    return {
      vm: this.vm,
      customer_metadata: pick('customer_metadata') as JsonObject | undefined,
      internal_metadata: pick('internal_metadata') as JsonObject | undefined,
      internal_metadata_namespaces: pick('internal_metadata_namespaces') as string[] | undefined,
    };
  }

  /**
   * Set (value is a string) or remove (value is null) one key, and persist before resolving. The
   * file is replaced atomically and keeps its mode, owner and group.
   */
  update(map: MetadataMap, key: string, value: string | null, warn: Log): Promise<void> {
    return this.writes.run(async () => {
      const values: JsonObject = { ...(this.view()[map] ?? {}) };
      if (value === null) {
        delete values[key];
      } else {
        Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
      }
      const next = { ...this.doc, [map]: values };
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`, { warn });
      this.doc = next;
    });
  }

  /** Resolves when every update queued so far is on disk (or failed). */
  idle(): Promise<void> {
    return this.writes.idle();
  }
}
