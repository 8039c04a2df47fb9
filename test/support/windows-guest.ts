import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStubs, type Stubs } from './stubs';

/** How the guest runs every PowerShell script and query: the start of their golden command lines. */
export const PS = 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass';

/**
 * A Windows guest for tests on Linux: a prefix root (`C:\` is `<root>/C`, `\\.\PhysicalDrive1` is
 * `<root>/dev/PhysicalDrive1`) and recording stubs of the Windows commands first on PATH. The
 * powershell.exe stub answers a query (`-EncodedCommand`, whose first line names it) with the JSON
 * the test gave for that name, and fails for a query it has no answer for. A `-File` script runs
 * the test's handler when there is one (`onScript`), else succeeds silently; each script is kept
 * as it was when it ran.
 */
export class WindowsGuest {
  readonly root: string;
  readonly stubs: Stubs;

  constructor(parent = tmpdir()) {
    this.root = mkdtempSync(join(parent, 'windows-root-'));
    const dir = mkdtempSync(join(parent, 'windows-stubs-'));
    const powershell = `for last; do :; done
case "$*" in
  *-EncodedCommand*)
    name=$(printf '%s' "$last" | base64 -d | iconv -f UTF-16LE -t UTF-8 | head -n 1 | sed 's/^# sdc-guest query: //; s/ /-/g')
    if [ -f '${dir}/answer.'"$name" ]; then cat '${dir}/answer.'"$name"; exit 0; fi
    echo "no answer for the query $name" >&2; exit 1;;
  *-File*)
    cp "$last" '${dir}/ran.'"$n"'.ps1'
    if [ -x '${dir}/on-script' ]; then exec '${dir}/on-script' "$last" < '${dir}/stdin.powershell.exe.'"$n"; fi;;
esac`;
    this.stubs = makeStubs({ 'powershell.exe': { script: powershell }, 'shutdown.exe': 0 }, dir);
  }

  /** What the query named `what` prints (as JSON). */
  answer(what: string, json: unknown): void {
    writeFileSync(join(this.stubs.path, `answer.${what.replace(/ /g, '-')}`), JSON.stringify(json));
  }

  /** A shell snippet run for each `-File` script instead of PowerShell: `$1` is the script, stdin its input. */
  onScript(shell: string): void {
    const file = join(this.stubs.path, 'on-script');
    writeFileSync(file, `#!/bin/sh\n${shell}\n`);
    chmodSync(file, 0o755);
  }

  /**
   * Every call as a golden line: the root left out of paths, and a query's encoded script
   * replaced by its name.
   */
  calls(): string[] {
    return this.stubs.calls().map((line) =>
      line
        .split(this.root)
        .join('')
        .replace(/-EncodedCommand (\S+)/, (_, b64: string) => `-EncodedCommand <${Buffer.from(b64, 'base64').toString('utf16le').split('\n')[0].replace('# sdc-guest ', '')}>`),
    );
  }

  /** The scripts run with -File, in order, as they were when they ran. */
  scriptsRun(): string[] {
    const names = readdirSync(this.stubs.path).filter((n) => /^ran\.\d+\.ps1$/.test(n));
    return names.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).map((n) => readFileSync(join(this.stubs.path, n), 'utf8'));
  }

  /** A file of the guest by its Windows path, or null. */
  read(path: string): Buffer | null {
    const host = this.host(path);
    return existsSync(host) ? readFileSync(host) : null;
  }

  host(path: string): string {
    const device = /^\\\\\.\\(.+)$/.exec(path);
    return device ? join(this.root, 'dev', device[1]) : join(this.root, path.replace(/^([A-Za-z]):/, '$1').replace(/\\/g, '/'));
  }
}
