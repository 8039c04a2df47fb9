import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCommand } from './run-tool';
import { bridgePty, startUntil, stop } from './processes';

/**
 * A real mdata-server on a unix socket, seeded from fixtures; with `pty`, a socat pty bridged
 * to it as QEMU bridges the guest's second serial port, so clients see one shared byte stream.
 */
export class MetadataHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'mdata-scenario-'));
  readonly socket = join(this.dir, 'metadata.sock');
  readonly metadataFile = join(this.dir, 'metadata.json');
  readonly device = join(this.dir, 'ttyS1');
  private children: ChildProcess[] = [];

  constructor(private readonly metadataFixture: string, private readonly vmFixture: string) {}

  async start(pty: boolean, serverArgs: string[] = []): Promise<this> {
    copyFileSync(this.metadataFixture, this.metadataFile);
    const { file, args } = bundleCommand('mdata-server');
    args.push('--socket', this.socket, '--metadata', this.metadataFile, '--vm', this.vmFixture, '--quiet', ...serverArgs);
    this.children.push((await startUntil(file, args, /listening on/)).child);
    if (pty) this.children.push(await bridgePty(this.device, this.socket));
    return this;
  }

  /** The environment that points a tool at this host. */
  env(pty: boolean): Record<string, string> {
    return pty ? { MDATA_SERIAL: this.device } : { MDATA_SOCKET: this.socket };
  }

  async close(): Promise<void> {
    for (const child of this.children.reverse()) await stop(child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
