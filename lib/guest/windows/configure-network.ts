import { NETWORK_KEYS, networkMetadataOf, parseNetwork, type NetworkModel } from '../../network/model';
import { adaptersFromQuery, bindToAdapters, networkScript, planAdapterChanges, type WindowsAdapter } from '../../network/windows';
import { sleep } from '../../time-limit';
import { failed, ok, okUnlessProblems, skipped, type ActionOutcome, type GuestAction } from '../action';
import type { GuestContext } from '../context';
import { failureText, queryPowerShell, runOwnScript } from './powershell';

/** How long NICs of sdc:nics may take to appear (their driver starts late at boot), at most. */
const ADAPTER_WAIT_MS = 30_000;
const ADAPTER_POLL_MS = 2000;
/** A failed change is tried again this often in all, each time from a fresh reading. */
const APPLY_ATTEMPTS = 3;
const RETRY_DELAY_MS = 3000;

export const ADAPTER_QUERY = `$adapters = @(foreach ($a in @(Get-NetAdapter)) {
  $i = $a.ifIndex
  $ip4 = Get-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -ErrorAction SilentlyContinue
  $ip6 = Get-NetIPInterface -InterfaceIndex $i -AddressFamily IPv6 -ErrorAction SilentlyContinue
  [pscustomobject]@{
    mac = [string]$a.MacAddress
    index = [int]$i
    name = [string]$a.Name
    hardware = [bool]$a.HardwareInterface
    dhcp4 = ([string]$ip4.Dhcp -eq 'Enabled')
    routerDiscovery = ([string]$ip6.RouterDiscovery -eq 'Enabled')
    mtu4 = [int]$ip4.NlMtu
    mtu6 = [int]$ip6.NlMtu
    addresses = @(Get-NetIPAddress -InterfaceIndex $i -ErrorAction SilentlyContinue | Where-Object { [string]$_.PrefixOrigin -eq 'Manual' } | ForEach-Object { '{0}/{1}' -f $_.IPAddress, $_.PrefixLength })
    routes = @(Get-NetRoute -InterfaceIndex $i -ErrorAction SilentlyContinue | Where-Object { [string]$_.Protocol -eq 'NetMgmt' } | ForEach-Object { [pscustomobject]@{ dst = [string]$_.DestinationPrefix; via = [string]$_.NextHop } })
    dns = @(Get-DnsClientServerAddress -InterfaceIndex $i -ErrorAction SilentlyContinue | ForEach-Object { $_.ServerAddresses })
    suffix = [string](Get-DnsClient -InterfaceIndex $i -ErrorAction SilentlyContinue).ConnectionSpecificSuffix
  }
})
Write-SdcJson $adapters
`;

async function readAdapters(ctx: GuestContext): Promise<WindowsAdapter[] | null> {
  const json = await queryPowerShell(ctx, 'network adapters', ADAPTER_QUERY);
  return json === null ? null : adaptersFromQuery(json);
}

/** The adapters, read again while a NIC of sdc:nics has none (its driver may start late), until `until`. */
async function waitForAdapters(ctx: GuestContext, model: NetworkModel, until: number): Promise<WindowsAdapter[] | null> {
  let adapters = await readAdapters(ctx);
  if (adapters === null) return null;
  let problems = bindToAdapters(model, adapters).problems;
  const worthWaiting = () => problems.length > 0 && Date.now() + ADAPTER_POLL_MS < until;
  if (worthWaiting()) ctx.log.info(`waiting up to ${Math.round((until - Date.now()) / 1000)} s for adapters: ${problems.join('; ')}`);
  while (worthWaiting()) {
    await sleep(ADAPTER_POLL_MS);
    adapters = (await readAdapters(ctx)) ?? [];
    problems = bindToAdapters(model, adapters).problems;
  }
  return adapters;
}

function finish(ctx: GuestContext, problems: string[], outcome: ActionOutcome): ActionOutcome {
  for (const p of problems) ctx.log.warn(p);
  return outcome.result === 'ok' ? okUnlessProblems(outcome.detail, problems) : outcome;
}

/**
 * configure-network on Windows: metadata -> the shared model -> the adapters, bound by MAC ->
 * a script of what differs, run (and, when it fails, read again and retried, a bounded number of
 * times). A change made by hand on a managed adapter is undone at the next boot.
 */
export const configureNetworkWindows: GuestAction = {
  name: 'configure-network',
  summary: 'Configure the adapters sdc:nics names (matched by MAC) from sdc:nics, sdc:routes, sdc:resolvers and sdc:dns_domain, changing only what differs.',
  keys: Object.values(NETWORK_KEYS),
  once: false,
  async run(ctx) {
    const parsed = parseNetwork(networkMetadataOf(ctx.metadata));
    const problems = [...parsed.problems];
    for (const note of parsed.notes) ctx.log.info(note);
    if (!parsed.model) return finish(ctx, problems, failed('sdc:nics is unusable; the network configuration is left as it is'));
    const until = Math.min(Date.now() + ADAPTER_WAIT_MS, ctx.deadline);
    let adapters = await waitForAdapters(ctx, parsed.model, until);
    for (let attempt = 1; ; attempt++) {
      if (adapters === null) return skipped('not run: the root is not the running system');
      const bound = bindToAdapters(parsed.model, adapters);
      const all = [...problems, ...bound.problems];
      const changes = planAdapterChanges(bound.plan, adapters);
      const script = networkScript(changes);
      if (script === null) {
        const what = bound.plan.interfaces.length === 0 ? 'no adapter to configure' : attempt === 1 ? 'network configuration unchanged' : 'network configured';
        return finish(ctx, all, ok(what));
      }
      const changed = changes.filter((c) => c.lines.length > 0).map((c) => c.adapter.name);
      const r = await runOwnScript(ctx, 'configure-network', script, { timeoutMs: 120_000 });
      if (r.skipped) return skipped('not run: the root is not the running system');
      if (ctx.dryRun) return finish(ctx, all, ok(`would change ${changed.join(', ')}`));
      if (r.code === 0) return finish(ctx, all, ok(`changed ${changed.join(', ')}`));
      const error = failureText(r);
      ctx.log.warn(`attempt ${attempt} of ${APPLY_ATTEMPTS}: the change script ${error}`);
      if (attempt === APPLY_ATTEMPTS) return finish(ctx, all, failed(`not configured after ${APPLY_ATTEMPTS} attempts: ${error}`));
      await sleep(RETRY_DELAY_MS);
      adapters = await readAdapters(ctx);
    }
  },
};
