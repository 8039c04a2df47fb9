import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StubBehaviour {
  /** Exit status (default 0). */
  exit?: number;
  /** Printed on stdout. */
  stdout?: string;
  /** A shell snippet run before exiting, with "$@" the arguments. */
  script?: string;
}

export interface Stubs {
  /** Put this first on PATH. */
  path: string;
  /** Every call, in order, as `name arg arg`. */
  calls(): string[];
  /** What each call of `name` read on stdin, in order. */
  inputs(name: string): string[];
}

/**
 * Recording stand-ins for system commands (hostnamectl, chpasswd, ip...): each records its
 * command line and its stdin, then prints and exits as told.
 */
export function makeStubs(commands: Record<string, StubBehaviour | number>, dir = mkdtempSync(join(tmpdir(), 'stubs-'))): Stubs {
  mkdirSync(dir, { recursive: true });
  for (const [name, how] of Object.entries(commands)) {
    const b: StubBehaviour = typeof how === 'number' ? { exit: how } : how;
    const out = b.stdout === undefined ? '' : `printf '%s' '${b.stdout.replace(/'/g, "'\\''")}'\n`;
    writeFileSync(
      join(dir, name),
      // Shell builtins but for one cat: a stub costs little more than the shell it runs in.
      `#!/bin/sh\necho "${name} $*" >> '${dir}/calls.log'\nn=0\nwhile IFS= read -r call; do case "$call" in '${name} '*) n=$((n + 1));; esac; done < '${dir}/calls.log'\ncat > '${dir}/stdin.${name}.'$n\n${b.script ?? ''}\n${out}exit ${b.exit ?? 0}\n`,
    );
    chmodSync(join(dir, name), 0o755);
  }
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return {
    path: dir,
    calls: () => read(join(dir, 'calls.log')).split('\n').filter(Boolean),
    inputs(name) {
      const count = this.calls().filter((c) => c === name || c.startsWith(`${name} `)).length;
      return Array.from({ length: count }, (_, i) => read(join(dir, `stdin.${name}.${i + 1}`)));
    },
  };
}
