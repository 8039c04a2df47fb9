import { configureNetwork } from '../../network/configure';
import { NETWORK_KEYS } from '../../network/model';
import { STACKS, type RendererName } from '../../network/stacks';
import { failed, okUnlessProblems, type GuestAction } from '../action';

/** The network from sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain, rendered for the guest's own stack. */
export const configureNetworkAction: GuestAction = {
  name: 'configure-network',
  summary: "Configure the network from sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain in the guest's own network stack.",
  keys: Object.values(NETWORK_KEYS),
  once: false,
  leftToCloudInit: true,
  options: {
    '--renderer': { value: 'NAME', help: `use this stack instead of detecting it: ${Object.keys(STACKS).join(', ')}` },
    '--force': { help: 'replace network files we did not write, or that were edited since' },
    '--no-apply': { help: 'write the files but do not reload the network stack' },
  },
  async run(ctx, options) {
    const renderer = options['--renderer'];
    if (renderer !== undefined && !(typeof renderer === 'string' && renderer in STACKS)) {
      return failed(`--renderer must be one of ${Object.keys(STACKS).join(', ')}`);
    }
    const result = await configureNetwork(ctx, { renderer: renderer as RendererName | undefined, force: options['--force'] === true, apply: options['--no-apply'] !== true });
    const what = `${result.renderer ?? 'no stack'}: ${result.written.length} file(s) written, ${result.removed.length} removed`;
    return okUnlessProblems(what, result.problems);
  },
};
