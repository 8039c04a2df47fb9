// What every VM scenario file shares: its own directory, the root image, the server's files, the
// boots, and reading what the guest left behind.
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuestImage, readImageFile, type GuestImage, type NetworkStack } from './guest-image';
import { bootGuest, guestFailure, type BootOptions, type BootResult, type MetadataFiles } from './guest-vm';
import { haveCommand, removeTree } from './host-commands';

export const FIXTURES = join(__dirname, '..', 'fixtures');
const HOST_COMMANDS = ['qemu-system-x86_64', 'mmdebstrap', 'mke2fs', 'debugfs', 'timeout', 'mount'];

/** Why the VM tests cannot run here, or null when they can. */
export async function vmUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the VM tests need root (mmdebstrap --mode=root, overlay mounts)';
  for (const command of HOST_COMMANDS) {
    if (!(await haveCommand(command))) return `${command} is not installed: run make test-packages`;
  }
  if (!existsSync('/usr/share/qemu/qboot.rom')) return 'qemu has no qboot.rom firmware';
  return null;
}

export function log(line: string): void {
  process.stdout.write(`  vm: ${line}\n`);
}

export class Scenario {
  readonly dir = mkdtempSync(join(tmpdir(), 'sdc-vm-'));
  readonly files: MetadataFiles = { metadata: join(this.dir, 'metadata.json'), vm: join(this.dir, 'vm.json') };
  private image: GuestImage | undefined;

  constructor(metadataFixture: string, vmFixture: string, private readonly stack: NetworkStack = 'ifupdown') {
    copyFileSync(metadataFixture, this.files.metadata);
    copyFileSync(vmFixture, this.files.vm);
  }

  get vm(): { uuid: string; nics: { mac: string }[] } {
    return JSON.parse(readFileSync(this.files.vm, 'utf8'));
  }

  /** The metadata file as the server left it. */
  metadata(): { customer_metadata?: Record<string, unknown>; internal_metadata?: Record<string, unknown> } {
    return JSON.parse(readFileSync(this.files.metadata, 'utf8'));
  }

  async rootImage(): Promise<GuestImage> {
    this.image ??= await buildGuestImage(this.dir, this.stack, log);
    return this.image;
  }

  /** One boot of the scenario's disk running `step`, with its NICs from the vm file. */
  async boot(step: string, options: Partial<BootOptions> = {}): Promise<BootResult> {
    const image = await this.rootImage();
    const result = await bootGuest({ image, step, dir: this.dir, macs: this.vm.nics.map((n) => n.mac), metadata: this.files, ...options });
    log(`${step}: result at guest uptime ${result.resultUptime.toFixed(1)} s, powered off ${(result.wallMs / 1000).toFixed(1)} s after qemu started`);
    return result;
  }

  /** What `save NAME` recorded in the guest on boot number `boot` of this disk. */
  async saved(boot: number, name: string): Promise<string> {
    return (await readImageFile((await this.rootImage()).rootImage, `/var/lib/sdc-vm-test/boot-${boot}/${name}.out`)).toString('utf8');
  }

  async savedJson(boot: number, name: string): Promise<any> {
    const text = await this.saved(boot, name);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`boot ${boot}: ${name} is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  /** Removes the scenario's directory; SDC_VM_KEEP=1 keeps it (disks, console logs) and says where. */
  async close(): Promise<void> {
    if (process.env.SDC_VM_KEEP === '1') return log(`kept ${this.dir}`);
    await removeTree(this.dir);
  }
}

/** The exit status that `save NAME` marked, or throws with the console when it did not run. */
export function savedStatus(result: BootResult, name: string): number {
  const m = /^rc=(\d+)$/.exec(result.marks.get(name) ?? '');
  if (!m) throw guestFailure(`the guest never reported "${name}"`, result.console, result.serverLog);
  return Number(m[1]);
}

/** Runs assertions about a boot; a failure carries the boot's console. */
export async function aboutBoot(result: BootResult, check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    const err = e as Error;
    err.message = guestFailure(err.message, result.console, result.serverLog).message;
    throw err;
  }
}
