// The multi-call entry of the single executables: the tool is the name it runs as, or the first argument.
import { platform } from '../lib/platform';
import { TOOLS } from '../lib/tools/registry';
import { EXIT, runTool } from '../lib/tools/run';
import { versionLine } from '../lib/version';

async function main(): Promise<void> {
  const self = platform.invokedAs();
  const args = process.argv.slice(2);
  if (TOOLS[self.name]) {
    runTool(await TOOLS[self.name](), self.path, args);
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
    process.exitCode = EXIT.USAGE;
  }
}

void main();
