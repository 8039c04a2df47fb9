import { main } from '../lib/tools/mdata-get';
import { runTool } from '../lib/tools/run';

runTool(main, process.argv[1], process.argv.slice(2));
