import { main } from '../lib/tools/mdata-server';
import { runTool } from '../lib/tools/run';

runTool(main, process.argv[1], process.argv.slice(2));
