import { isObject, own, type Json, type JsonObject } from '../json';

/**
 * The metadata formats the host serves and the guest reads: `sdc:routes` as the host agent builds
 * it from the VM object, and MAC addresses compared as parsed, normalised addresses.
 */

/** One entry of `sdc:routes`. `gateway` is whatever the VM object held (validated by the guest). */
interface SdcRoute {
  linklocal: boolean;
  dst: string;
  gateway: Json;
}

/** sdc:routes: `nics[N]` and `macs[<mac>]` gateways become the NIC's IP; unusable ones are skipped. */
export function buildRoutes(vm: JsonObject): SdcRoute[] {
  const routes = own(vm, 'routes');
  const nics = own(vm, 'nics');
  const nicList = Array.isArray(nics) ? nics : [];
  const out: SdcRoute[] = [];
  if (!isObject(routes)) return out;
  for (const [dst, gateway] of Object.entries(routes)) {
    if (typeof gateway !== 'string') {
      out.push({ linklocal: false, dst, gateway });
      continue;
    }
    const byIndex = /nics\[(\d+)\]/.exec(gateway);
    const byMac = /macs\[(.+)\]/.exec(gateway);
    if (!byIndex && !byMac) {
      out.push({ linklocal: false, dst, gateway });
      continue;
    }
    let nic: Json | undefined;
    if (byIndex) {
      nic = nicList[Number(byIndex[1])];
    } else {
      const mac = normaliseMac(byMac![1]);
      nic = mac === null ? undefined : nicList.find((n) => normaliseMac(own(n, 'mac')) === mac);
    }
    const ip = own(nic, 'ip');
    if (typeof ip !== 'string' || ip === 'dhcp') continue;
    out.push({ linklocal: true, dst, gateway: ip });
  }
  return out;
}

/** `0:1:2:A:B:C`, `00-01-02-0a-0b-0c` or `0001020a0b0c` -> `00:01:02:0a:0b:0c`; null if not a MAC. */
export function normaliseMac(text: Json | undefined): string | null {
  if (typeof text !== 'string') return null;
  const octets = /^[0-9a-f]{12}$/i.test(text) ? text.match(/../g)! : text.split(/[:-]/);
  if (octets.length !== 6 || !octets.every((o) => /^[0-9a-f]{1,2}$/i.test(o))) return null;
  return octets.map((o) => o.toLowerCase().padStart(2, '0')).join(':');
}
