// `sdc-guest install|uninstall` as the install tests run it, and what they read back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { Manifest } from '../../lib/install/manifest';
import { runTool, type ToolCommand, type ToolResult } from './run-tool';

/** sdc-guest with `args` through `command`, killed after 2 minutes. */
export const sdcGuest = (command: ToolCommand, args: string[]): Promise<ToolResult> => runTool(command, 'sdc-guest', args, { killAfterMs: 120_000 });

/** `r` exited 0; else the failure names `what` and shows its stderr. */
export function assertOk(r: ToolResult, what: string): void {
  assert.is(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
}

/** The install manifest in `root` (var/lib/sdc-guest/install.json). */
export function manifestOf(root: string): Manifest {
  return JSON.parse(readFileSync(join(root, 'var/lib/sdc-guest/install.json'), 'utf8')) as Manifest;
}
