import { EXIT, writeStdout, type ToolMain } from './run';
import { versionLine } from '../version';
import { InputError, MetadataStore } from '../server/store';
import { connectToChardev, DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_LINE, lineBudgetBytes, listenOnSocket, serveZones, ServerOptions, Service } from '../server/listeners';
import { rateLimited, streamLog } from '../server/log';
import { ByteBudget } from '../server/session';

const USAGE = 'usage: mdata-server (--socket PATH | --connect PATH) --metadata FILE [--vm FILE] [options]\n' +
  '       mdata-server --zones-root DIR [options]';

const HELP = `${USAGE}

Plays the SmartOS host metadata agent (protocol V1 and V2) for one VM or many.

Modes (exactly one):
  --socket PATH      listen on a unix socket; every connection is a session (like a zone socket)
  --connect PATH     connect to a QEMU/bhyve chardev unix socket; reconnect when it goes away
  --zones-root DIR   serve DIR/<zone>/config/metadata.json (+ optional config/vm.json)
                     at DIR/<zone>/metadata.sock, one store per zone

Inputs:
  --metadata FILE    customer_metadata, internal_metadata, internal_metadata_namespaces;
                     PUT and DELETE rewrite this file atomically
  --vm FILE          vmadm get-style VM object; sdc:* keys come from it

Options:
  --max-line BYTES   longest request line (default ${DEFAULT_MAX_LINE}); longer ones get FAILURE
  --idle-timeout SECONDS
                     close a connection idle this long (default ${DEFAULT_IDLE_TIMEOUT_S}; not --connect)
  --max-connections N
                     connections open at once per socket, per zone (default ${DEFAULT_MAX_CONNECTIONS};
                     not --connect); more are closed at once
  --quiet            do not log per-request errors
  --help             show this help
  --version          show the version

Exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad input file or cannot listen, 3 usage.
`;


interface Config {
  mode: 'socket' | 'connect' | 'zones-root';
  target: string;
  metadata?: string;
  vm?: string;
  maxLine: number;
  idleTimeoutS: number;
  maxConnections: number;
  quiet: boolean;
}

class UsageError extends Error {}

const VALUE_OPTIONS = ['--socket', '--connect', '--zones-root', '--metadata', '--vm', '--max-line', '--idle-timeout', '--max-connections'];

/** A whole number from 1 to `max`, or the default when the option is not given. */
function wholeNumber(values: Map<string, string>, name: string, fallback: number, max: number, unit: string): number {
  const text = values.get(name);
  if (text === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max) throw new UsageError(`${name} must be a whole number of ${unit} from 1 to ${max}`);
  return Number(text);
}

function parseArgs(args: string[]): Config | 'help' | 'version' {
  const values = new Map<string, string>();
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--version') return 'version';
    if (arg === '--quiet') {
      quiet = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!VALUE_OPTIONS.includes(name)) throw new UsageError(`unknown option ${arg}`);
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }
  const modes = (['socket', 'connect', 'zones-root'] as const).filter((m) => values.has(`--${m}`));
  if (modes.length !== 1) throw new UsageError('give exactly one of --socket, --connect, --zones-root');
  const mode = modes[0];
  const metadata = values.get('--metadata');
  const vm = values.get('--vm');
  if (mode === 'zones-root' && (metadata || vm)) throw new UsageError('--zones-root takes its files from the zone directories; drop --metadata and --vm');
  if (mode !== 'zones-root' && !metadata) throw new UsageError(`--${mode} needs --metadata FILE`);
  return {
    mode,
    target: values.get(`--${mode}`)!,
    metadata,
    vm,
    maxLine: wholeNumber(values, '--max-line', DEFAULT_MAX_LINE, 2 ** 30, 'bytes'),
    idleTimeoutS: wholeNumber(values, '--idle-timeout', DEFAULT_IDLE_TIMEOUT_S, 86_400, 'seconds'),
    maxConnections: wholeNumber(values, '--max-connections', DEFAULT_MAX_CONNECTIONS, 100_000, 'connections'),
    quiet,
  };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Per-request log lines: at most this many a second on average, this many at once. */
const LOG_LINES_PER_SECOND = 20;
const LOG_BURST = 50;

export const main: ToolMain = async (args) => {
  const say = streamLog(process.stderr, 'mdata-server: ');
  let config: Config | 'help' | 'version';
  try {
    config = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(err.message);
    process.stderr.write(`${USAGE}\n`);
    return EXIT.USAGE;
  }
  if (config === 'help') {
    writeStdout(HELP);
    return EXIT.OK;
  }
  if (config === 'version') {
    writeStdout(versionLine('mdata-server'));
    return EXIT.OK;
  }

  const options: ServerOptions = {
    maxLine: config.maxLine,
    budget: new ByteBudget(lineBudgetBytes(config.maxLine)),
    idleTimeoutMs: config.idleTimeoutS * 1000,
    maxConnections: config.maxConnections,
    log: config.quiet ? () => undefined : rateLimited(say, LOG_LINES_PER_SECOND, LOG_BURST),
    status: say,
  };
  const signal = waitForSignal();
  let service: Service;
  try {
    if (config.mode === 'zones-root') {
      const served = await serveZones(config.target, options);
      service = served.service;
      say(`serving ${served.zones.length} zones under ${config.target}: ${served.zones.join(' ')}`);
    } else {
      const store = await MetadataStore.load(config.metadata!, config.vm, say);
      if (config.mode === 'socket') {
        service = await listenOnSocket(config.target, store, options);
        say(`listening on ${config.target}`);
      } else {
        service = connectToChardev(config.target, store, options);
      }
    }
  } catch (err) {
    say(err instanceof InputError ? err.message : `${config.target}: ${(err as Error).message}`);
    return EXIT.ERROR;
  }
  say(`stopping on ${await signal}`);
  await service.close();
  return EXIT.OK;
};
