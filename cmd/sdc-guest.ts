// The multi-call entry of the single executables: the tool is the name it runs as, or the first argument.
import { platform } from '../lib/platform';
import { findTool, toolNames } from '../lib/tools/registry';
import { EXIT, runTool, writeStdout } from '../lib/tools/run';
import { versionLine } from '../lib/version';

/** Names that are not a tool: the executable itself, and node running the bundle. */
const MULTI_CALL_NAMES = ['sdc-guest', 'node'];

async function main(): Promise<void> {
  const self = platform.invokedAs();
  const args = process.argv.slice(2);
  const asInvoked = MULTI_CALL_NAMES.includes(self.name) ? null : await findTool(self.name);
  if (asInvoked) return runTool(asInvoked, self.path, args);
  const name = args[0] ?? '';
  const named = name.startsWith('-') ? null : await findTool(name);
  if (name === '--version') {
    writeStdout(versionLine('sdc-guest'));
  } else if (named) {
    runTool(named, name, args.slice(1));
  } else {
    const problem = name ? `unknown tool "${name}"` : 'no tool given';
    process.stderr.write(`sdc-guest: ${problem}; usage: sdc-guest TOOL [ARGS] or sdc-guest --version; tools: ${(await toolNames()).join(', ')}\n`);
    process.exitCode = EXIT.USAGE;
  }
}

void main();
