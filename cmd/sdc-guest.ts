// The multi-call entry of the single executables: the tool is the name it runs as, or the first argument.
import { basename } from 'node:path';
import { version } from '../package.json';
import { TOOLS } from '../lib/tools/registry';
import { runTool } from '../lib/tools/run';

// Injected by build/sea.ts with esbuild `define`.
declare const SDC_GUEST_COMMIT: string;
const commit = typeof SDC_GUEST_COMMIT === 'string' ? SDC_GUEST_COMMIT : 'unknown';

function main(): void {
  const invokedAs = process.platform === 'win32' ? process.execPath : process.argv0;
  const self = process.platform === 'win32' ? basename(invokedAs).toLowerCase().replace(/\.exe$/, '') : basename(invokedAs);
  let args = process.argv.slice(2);
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(`sdc-guest ${version} (commit ${commit})\n`);
    return;
  }
  if (TOOLS[self]) {
    runTool(TOOLS[self], invokedAs, args);
    return;
  }
  const name = args[0] ?? '';
  args = args.slice(1);
  if (!TOOLS[name]) {
    const tools = Object.keys(TOOLS).join(', ') || '(none)';
    const problem = name ? `unknown tool "${name}"` : 'no tool given';
    process.stderr.write(`sdc-guest: ${problem}; usage: sdc-guest TOOL [ARGS] or sdc-guest --version; tools: ${tools}\n`);
    process.exitCode = 3;
    return;
  }
  runTool(TOOLS[name], name, args);
}

main();
