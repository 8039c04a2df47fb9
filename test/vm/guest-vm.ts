// One boot of a test guest under QEMU (TCG), wired as a SmartOS HVM guest: the second serial port is
// a listening socket that `mdata-server --connect` serves, as the host agent serves vm.ttyb; the
// console (first serial port) goes to a file that is read while the guest runs. The guest's test
// driver prints "SDCVM <name> <value>" lines and powers off; a guest that does not is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { linuxExecutableCommand } from '../support/run-tool';
import { startUntil, stop } from '../support/processes';
import type { GuestImage } from './guest-image';

/** A whole boot, from qemu's start to its exit; a hung guest is killed at this bound. */
const BOOT_LIMIT_MS = 5 * 60_000;
/** The console kept for failure messages (a runaway guest may print without end). */
const CONSOLE_KEPT = 1024 * 1024;
const POLL_MS = 200;
const FIRMWARE = '/usr/share/qemu/qboot.rom';
const CMDLINE = [
  'root=/dev/vda rw console=ttyS0 panic=-1',
  // Kernel messages off, systemd's unit status on: the console says how far a hung boot got.
  'quiet systemd.show_status=1',
  // No interactive first-boot questions: nobody types on the console.
  'systemd.firstboot=off',
  // Faster under TCG; nothing here tests them.
  'cryptomgr.notests mitigations=off',
].join(' ');

export interface MetadataFiles {
  metadata: string;
  vm: string;
}

export interface BootOptions {
  image: GuestImage;
  /** The driver's steps, comma-separated: files in test/vm/guest/steps/. */
  step: string;
  /** Where this boot's console log and socket go. */
  dir: string;
  /** One virtio NIC (user-mode networking, no route out) per MAC, in this order. */
  macs: string[];
  /** Extra virtio disks after the root disk: /dev/vdb, /dev/vdc... */
  dataDisks?: string[];
  /** The server's files. */
  metadata: MetadataFiles;
  /** Called with every console line while the guest runs. */
  watch?: (line: string, guest: RunningGuest) => void;
}

export interface BootResult {
  /** The console (its last MiB), without colours and carriage returns. */
  console: string;
  /** The last value of each SDCVM mark. */
  marks: Map<string, string>;
  /** The step's exit status. */
  rc: number;
  /** The guest's uptime when its step ended, in seconds. */
  resultUptime: number;
  /** From qemu's start to its exit. */
  wallMs: number;
  serverLog: string;
}

interface RunningGuest {
  /** Stops the metadata server now (SIGTERM), as when the host agent goes away. */
  stopServer(): Promise<void>;
}

/** An error for `problem` with the end of the guest's console and the server's log attached. */
export function guestFailure(problem: string, consoleText: string, serverLog: string): Error {
  const tail = consoleText.split('\n').slice(-80).join('\n');
  return new Error(`${problem}\n--- guest console (last lines) ---\n${tail}\n--- mdata-server ---\n${serverLog.slice(-4000)}`);
}

/** `mdata-server --connect` (the standalone executable) for one socket, with a hard lifetime. */
class MetadataServer {
  private child: ChildProcess | undefined;
  log = '';

  async start(socket: string, files: MetadataFiles, lifetimeMs: number): Promise<void> {
    const server = linuxExecutableCommand('mdata-server').file;
    const args = ['-s', 'KILL', `${Math.ceil(lifetimeMs / 1000)}`, server, '--connect', socket, '--metadata', files.metadata, '--vm', files.vm];
    const { child, match } = await startUntil('timeout', args, /mdata-server: (waiting for|connected to) .*\n/);
    this.child = child;
    this.log = match.input ?? '';
    child.stderr!.on('data', (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-64 * 1024);
    });
  }

  async stop(): Promise<void> {
    await stop(this.child);
  }
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Reads the console file as it grows and hands out whole lines. */
class ConsoleReader {
  private fd: number | undefined;
  private partial = '';
  text = '';

  constructor(private readonly path: string, private readonly onLine: (line: string) => void) {}

  poll(): void {
    if (this.fd === undefined) {
      if (!existsSync(this.path)) return;
      this.fd = openSync(this.path, 'r');
    }
    const buf = Buffer.alloc(64 * 1024);
    let n: number;
    while ((n = readSync(this.fd, buf, 0, buf.length, null)) > 0) {
      const lines = (this.partial + buf.subarray(0, n).toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const raw of lines) this.take(raw);
    }
  }

  finish(): void {
    this.poll();
    if (this.partial) this.take(this.partial);
    this.partial = '';
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private take(raw: string): void {
    const line = raw.replace(ANSI, '').replace(/\r/g, '');
    this.text = (this.text + `${line}\n`).slice(-CONSOLE_KEPT);
    this.onLine(line);
  }
}

function qemuArgs(options: BootOptions, consolePath: string, socket: string): string[] {
  const disks = [options.image.rootImage, ...(options.dataDisks ?? [])].flatMap((file) => ['-drive', `file=${file},format=raw,if=virtio`]);
  const nics = options.macs.flatMap((mac, i) => ['-netdev', `user,id=net${i},restrict=on`, '-device', `virtio-net-pci,netdev=net${i},mac=${mac}`]);
  return [
    // TCG only: this host class's /dev/kvm (nested, PVM) crashes real guests.
    '-accel', 'tcg', '-M', 'pc', '-cpu', 'max', '-smp', '2', '-m', '1024',
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-bios', FIRMWARE,
    '-kernel', options.image.kernel, '-initrd', options.image.initrd,
    '-append', `${CMDLINE} sdcvm.run=${options.step}`,
    '-smbios', 'type=1,manufacturer=Joyent,product=SmartDC HVM',
    ...disks,
    '-chardev', `file,id=console,path=${consolePath}`, '-device', 'isa-serial,chardev=console',
    '-chardev', `socket,id=ttyb,path=${socket},server=on,wait=off`, '-device', 'isa-serial,chardev=ttyb',
    ...nics,
  ];
}

let bootCount = 0;

/** Boots the guest once and waits (bounded) until it powers itself off. */
export async function bootGuest(options: BootOptions): Promise<BootResult> {
  const n = ++bootCount;
  const consolePath = join(options.dir, `console-${n}.log`);
  const socket = join(options.dir, `ttyb-${n}.sock`);
  const server = new MetadataServer();
  await server.start(socket, options.metadata, BOOT_LIMIT_MS + 30_000);
  const marks = new Map<string, string>();
  const guest: RunningGuest = { stopServer: () => server.stop() };
  const reader = new ConsoleReader(consolePath, (line) => {
    // Anywhere in the line: the serial getty's "login: " prompt has no newline of its own.
    const mark = /SDCVM (\S+) ?(.*)$/.exec(line);
    if (mark) marks.set(mark[1], mark[2]);
    options.watch?.(line, guest);
  });

  const started = Date.now();
  // `timeout` kills qemu even if this process dies; the timer below ends it first and says why.
  const qemu = spawn('timeout', ['-s', 'KILL', `${Math.ceil(BOOT_LIMIT_MS / 1000) + 15}`, 'qemu-system-x86_64', ...qemuArgs(options, consolePath, socket)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let qemuErr = '';
  qemu.stderr.on('data', (chunk: Buffer) => (qemuErr = (qemuErr + chunk.toString()).slice(-8192)));
  const poller = setInterval(() => reader.poll(), POLL_MS);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGTERM');
  }, BOOT_LIMIT_MS);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    qemu.on('error', (e) => {
      qemuErr += `${e.message}\n`;
      resolve({ code: null, signal: null });
    });
    qemu.on('close', (code, signal) => resolve({ code, signal }));
  });
  const wallMs = Date.now() - started;
  clearTimeout(limit);
  clearInterval(poller);
  reader.finish();
  await server.stop();

  const fail = (problem: string) => guestFailure(problem, reader.text, server.log);
  if (timedOut) throw fail(`the guest did not power off within ${BOOT_LIMIT_MS / 1000} s and was killed`);
  if (exit.code !== 0) throw fail(`qemu exited ${exit.code ?? exit.signal}: ${qemuErr.trim()}`);
  const end = /^rc=(\d+) uptime=([\d.]+)$/.exec(marks.get('end') ?? '');
  if (!end) throw fail('the guest powered off without its driver reporting "end"');
  return { console: reader.text, marks, rc: Number(end[1]), resultUptime: Number(end[2]), wallMs, serverLog: server.log };
}
