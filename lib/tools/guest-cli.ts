import { isAbsolute } from 'node:path';
import type { ActionOption, ActionOptions } from '../guest/action';
import { parseSeconds } from '../time-limit';
import { versionLine } from '../version';
import { DEFAULT_TIMEOUT_SECONDS, writeErr } from './client-cli';
import { EXIT, writeStdout } from './run';

export interface GuestToolSpec {
  name: string;
  summary: string;
  /** The tool's own options besides --root, --dry-run, --live and --timeout. */
  options: Record<string, ActionOption>;
  /** Exit codes after 0, 2 and 3, for the help text. */
  exitCodes?: string;
}

export interface GuestArgs {
  root: string;
  dryRun: boolean;
  /** Commands that act on the running system run: the root is `/`, or --live says it is the running system. */
  live: boolean;
  timeoutSeconds: number;
  deadline: number;
  options: ActionOptions;
}

const COMMON: Record<string, ActionOption> = {
  '--root': { value: 'DIR', help: 'read and write every file under DIR (default /)' },
  '--dry-run': { help: 'print each file it would write (with a diff) and each command it would run; change nothing' },
  '--live': { help: 'with --root: DIR is the running system, so run commands like hostname, ip, mount' },
  '--timeout': { value: 'SECONDS', help: `budget for the metadata service and waits (default ${DEFAULT_TIMEOUT_SECONDS}; env MDATA_TIMEOUT)` },
};

function helpText(spec: GuestToolSpec): string {
  const all = { ...COMMON, ...spec.options };
  const lines = Object.entries(all).map(([name, o]) => `  ${`${name}${o.value ? ` ${o.value}` : ''}`.padEnd(26)} ${o.help}`);
  return [
    `Usage: sdc-guest ${spec.name} [OPTIONS]`,
    spec.summary,
    '',
    'Options:',
    ...lines,
    '  --help                     show this help',
    '  --version                  show the version',
    '',
    `Exit codes: 0 done (or nothing to do), 2 failed${spec.exitCodes ? `, ${spec.exitCodes}` : ''}, 3 usage.`,
    '',
  ].join('\n');
}

/** `--name VALUE`, `--name=VALUE` or a switch, anywhere; returns an exit code when the tool is already done. */
export function parseGuestArgs(args: string[], spec: GuestToolSpec): GuestArgs | number {
  const known = { ...COMMON, ...spec.options };
  const values: ActionOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help') {
      writeStdout(helpText(spec));
      return EXIT.OK;
    }
    if (arg === '--version') {
      writeStdout(versionLine(`sdc-guest ${spec.name}`));
      return EXIT.OK;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const option = Object.hasOwn(known, name) ? known[name] : undefined;
    if (!option) return usage(spec, `unknown option ${arg}`);
    if (!option.value) {
      if (eq !== -1) return usage(spec, `${name} takes no value`);
      values[name] = true;
      continue;
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') return usage(spec, `${name} needs a value`);
    values[name] = value;
  }
  const root = typeof values['--root'] === 'string' ? values['--root'] : '/';
  if (!isAbsolute(root)) return usage(spec, `--root must be an absolute path, got '${root}'`);
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  try {
    if (typeof values['--timeout'] === 'string') timeoutSeconds = parseSeconds(values['--timeout'], '--timeout');
    else if (process.env.MDATA_TIMEOUT !== undefined) timeoutSeconds = parseSeconds(process.env.MDATA_TIMEOUT, 'MDATA_TIMEOUT');
  } catch (err) {
    return usage(spec, (err as Error).message);
  }
  const options: ActionOptions = {};
  for (const [name, value] of Object.entries(values)) if (!Object.hasOwn(COMMON, name)) options[name] = value;
  return {
    root,
    dryRun: values['--dry-run'] === true,
    live: root === '/' || values['--live'] === true,
    timeoutSeconds,
    deadline: Date.now() + timeoutSeconds * 1000,
    options,
  };
}

function usage(spec: GuestToolSpec, problem: string): number {
  writeErr(`sdc-guest ${spec.name}: ${problem} (see sdc-guest ${spec.name} --help)`);
  return EXIT.USAGE;
}
