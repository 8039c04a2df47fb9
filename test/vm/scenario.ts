// What every VM scenario file shares: a suite whose tests skip where guests cannot boot, and per
// scenario its own directory, root image, server files, boots, and what the guest left behind.
import { suite } from 'uvu';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipTest } from '../support/skip';
import { buildGuestImage, haveTools, readImageFile, type GuestImage, type NetworkStack } from './guest-image';
import { bootGuest, guestFailure, type BootOptions, type BootResult, type MetadataFiles } from './guest-vm';
import { haveCommand, removeTree } from './host-commands';

const HOST_COMMANDS = ['qemu-system-x86_64', 'mmdebstrap', 'mke2fs', 'debugfs', 'sfdisk', 'timeout', 'mount', 'chroot', 'systemctl'];

/** A file in test/vm/fixtures/. */
export function fixture(name: string): string {
  return join(__dirname, 'fixtures', name);
}

/** Why the VM tests cannot run here, or null when they can. */
async function vmUnavailable(tools: string[]): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the VM tests need root (mmdebstrap --mode=root, overlay mounts)';
  for (const command of HOST_COMMANDS) {
    if (!(await haveCommand(command))) return `${command} is not installed: run make test-packages`;
  }
  if (!existsSync('/usr/share/qemu/qboot.rom')) return 'qemu has no qboot.rom firmware';
  if (!(await haveTools(...tools))) return `sdc-guest has no ${tools.join(', ')} tool yet`;
  return null;
}

interface VmSuite {
  /** A test that skips itself, with the reason, where guests cannot boot or a needed tool is missing. */
  test(name: string, body: () => Promise<void>): void;
  /** A test of a boot that an earlier test made; a failure carries that boot's console. */
  testBoot(name: string, boot: () => BootResult | undefined, check: (boot: BootResult) => Promise<void>): void;
  /** A new scenario, closed after the suite. */
  scenario(metadataFile: string, vmFile: string, stack?: NetworkStack): Scenario;
  run(): void;
}

/** A uvu suite of VM scenarios that need the given sdc-guest tools. */
export function vmSuite(title: string, tools: string[] = []): VmSuite {
  const s = suite(title);
  const scenarios: Scenario[] = [];
  let unavailable: string | null = null;
  s.before(async () => {
    unavailable = await vmUnavailable(tools);
  });
  s.after(async () => {
    for (const sc of scenarios) await sc.close();
  });
  const test = (name: string, body: () => Promise<void>) =>
    s(name, async () => {
      if (unavailable) return skipTest(unavailable);
      await body();
    });
  return {
    test,
    testBoot: (name, boot, check) =>
      test(name, async () => {
        const b = boot();
        if (!b) throw new Error('the boot this test checks did not happen (see the test that boots it)');
        await aboutBoot(b, () => check(b));
      }),
    scenario: (metadataFile, vmFile, stack) => {
      const sc = new Scenario(metadataFile, vmFile, stack);
      scenarios.push(sc);
      return sc;
    },
    run: () => s.run(),
  };
}

function log(line: string): void {
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

/** The state (active, failed, activating...) of each of our units (`sdc-guest*`) on boot `boot`. */
export async function unitStates(sc: Scenario, boot: number): Promise<Record<string, string>> {
  const lines = (await sc.saved(boot, 'units')).split('\n').filter((l) => l.startsWith('sdc-guest'));
  if (lines.length === 0) throw new Error(`boot ${boot}: no sdc-guest unit is loaded`);
  return Object.fromEntries(lines.map((l) => l.split(/\s+/)).map(([unit, , active]) => [unit, active]));
}

/** The exit status that `save NAME` marked; throws when the guest did not report it. */
export function savedStatus(result: BootResult, name: string): number {
  const m = /^rc=(\d+)$/.exec(result.marks.get(name) ?? '');
  if (!m) throw new Error(`the guest never reported "${name}"`);
  return Number(m[1]);
}

/** Runs assertions about a boot; a failure carries the boot's console. */
async function aboutBoot(result: BootResult, check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    const err = e as Error;
    err.message = guestFailure(err.message, result.console, result.serverLog).message;
    throw err;
  }
}
