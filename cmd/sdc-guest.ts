// The multi-call entry of the single executables: the tool is the name it runs as, or the first argument.
import { basename } from 'node:path';
import { TOOLS } from '../lib/tools/registry';
import { runTool } from '../lib/tools/run';
import { versionLine } from '../lib/version';

async function main(): Promise<void> {
  const invokedAs = process.platform === 'win32' ? process.execPath : process.argv0;
  const self = process.platform === 'win32' ? basename(invokedAs).toLowerCase().replace(/\.exe$/, '') : basename(invokedAs);
  const args = process.argv.slice(2);
  if (TOOLS[self]) {
    runTool(await TOOLS[self](), invokedAs, args);
    return;
  }
  const name = args[0] ?? '';
  if (name === '--version') {
    process.stdout.write(versionLine('sdc-guest'));
  } else if (TOOLS[name]) {
    runTool(await TOOLS[name](), name, args.slice(1));
  } else {
    const problem = name ? `unknown tool "${name}"` : 'no tool given';
    process.stderr.write(`sdc-guest: ${problem}; usage: sdc-guest TOOL [ARGS] or sdc-guest --version; tools: ${Object.keys(TOOLS).join(', ')}\n`);
    process.exitCode = 3;
  }
}

void main();
