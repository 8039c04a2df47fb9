import type { RootedFiles } from '../guest/context';
import { isInstalled } from '../guest/linux/programs';
import type { NetworkPlan } from './links';
import type { OwnedFiles, RenderedFile } from './renderers/files';
import * as ifcfg from './renderers/ifcfg';
import * as ifupdown from './renderers/ifupdown';
import * as netplan from './renderers/netplan';
import * as networkd from './renderers/networkd';
import * as networkmanager from './renderers/networkmanager';

/** The Linux network stacks: how each is detected, rendered and reloaded. */

export const RENDERERS = ['netplan', 'networkmanager', 'networkd', 'ifupdown', 'ifcfg-rh', 'ifcfg-suse'] as const;
export type RendererName = (typeof RENDERERS)[number];

/** Read-only questions about the guest's files, all under the root. */
export class Probe {
  constructor(private readonly files: RootedFiles) {}

  private async kind(path: string): Promise<'file' | 'dir' | 'link' | null> {
    const st = await this.files.lstat(path);
    if (!st) return null;
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
  }

  async exists(path: string): Promise<boolean> {
    return (await this.kind(path)) !== null;
  }

  async isDir(path: string): Promise<boolean> {
    return (await this.kind(path)) === 'dir';
  }

  async isSymlink(path: string): Promise<boolean> {
    return (await this.kind(path)) === 'link';
  }

  installed(program: string): Promise<boolean> {
    return isInstalled(this.files, program);
  }

  /** Enabled: linked from some `*.wants` folder of systemd, and not masked. */
  async unitEnabled(unit: string): Promise<boolean> {
    if ((await this.files.readlink(`/etc/systemd/system/${unit}`)) === '/dev/null') return false;
    for (const base of ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system']) {
      const dirs = (await this.files.list(base)).filter((d) => d.endsWith('.wants'));
      for (const d of dirs) if (await this.exists(`${base}/${d}/${unit}`)) return true;
    }
    return false;
  }
}

/** One command; `mayFail` for taking down an interface that may not be up. */
interface ApplyStep {
  args: string[];
  mayFail?: boolean;
}

export interface Stack {
  name: RendererName;
  /** Whether the guest uses this stack; checked in RENDERERS order. */
  detect(probe: Probe): Promise<boolean>;
  render(plan: NetworkPlan): RenderedFile[];
  owned: OwnedFiles;
  /** Whether the stack itself puts the resolvers into /etc/resolv.conf. */
  writesResolvConf(probe: Probe): Promise<boolean>;
  /** Commands that make the changed files take effect. */
  applyCommands(changedInterfaces: string[]): ApplyStep[];
}

const steps = (...lists: string[][]): ApplyStep[] => lists.map((args) => ({ args }));

/** ifupdown: down (with the new definitions), drop the addresses of the old ones, up. */
const ifupdownCycle = (names: string[]): ApplyStep[] =>
  names.flatMap((n) => [{ args: ['ifdown', '--force', n], mayFail: true }, { args: ['ip', 'addr', 'flush', 'dev', n, 'scope', 'global'] }, { args: ['ifup', n] }]);

/** network-scripts and wicked: their ifdown takes the interface down and flushes it. */
const ifcfgCycle = (names: string[]): ApplyStep[] => names.flatMap((n) => [{ args: ['ifdown', n], mayFail: true }, { args: ['ifup', n] }]);

export const STACKS: Record<RendererName, Stack> = {
  netplan: {
    name: 'netplan',
    detect: async (p) => (await p.installed('netplan')) && (await p.isDir('/etc/netplan')),
    render: netplan.render,
    owned: netplan.OWNED,
    writesResolvConf: async () => false,
    applyCommands: () => steps(['netplan', 'apply']),
  },
  networkmanager: {
    name: 'networkmanager',
    detect: async (p) => (await p.installed('NetworkManager')) && (await p.unitEnabled('NetworkManager.service')),
    render: networkmanager.render,
    owned: networkmanager.OWNED,
    writesResolvConf: async () => true,
    applyCommands: (names) => steps(['nmcli', 'connection', 'reload'], ...names.map((n) => ['nmcli', 'connection', 'up', 'id', `sdc-${n}`])),
  },
  networkd: {
    name: 'networkd',
    detect: async (p) => (await p.unitEnabled('systemd-networkd.service')) || (await p.unitEnabled('systemd-networkd.socket')),
    render: networkd.render,
    owned: networkd.OWNED,
    writesResolvConf: async () => false,
    applyCommands: (names) => steps(['networkctl', 'reload'], ...(names.length > 0 ? [['networkctl', 'reconfigure', ...names]] : [])),
  },
  ifupdown: {
    name: 'ifupdown',
    detect: async (p) => (await p.installed('ifup')) && (await p.exists('/etc/network/interfaces')),
    render: ifupdown.render,
    owned: ifupdown.OWNED,
    writesResolvConf: (p) => p.installed('resolvconf'),
    applyCommands: ifupdownCycle,
  },
  'ifcfg-rh': {
    name: 'ifcfg-rh',
    detect: (p) => p.isDir('/etc/sysconfig/network-scripts'),
    render: (plan) => ifcfg.render(plan, 'rh'),
    owned: ifcfg.OWNED.rh,
    writesResolvConf: async () => true,
    applyCommands: ifcfgCycle,
  },
  'ifcfg-suse': {
    name: 'ifcfg-suse',
    detect: (p) => p.isDir('/etc/sysconfig/network'),
    render: (plan) => ifcfg.render(plan, 'suse'),
    owned: ifcfg.OWNED.suse,
    writesResolvConf: async () => false,
    applyCommands: ifcfgCycle,
  },
};

/** The first stack, in RENDERERS order, that the guest uses; null if none. */
export async function detectStack(probe: Probe): Promise<Stack | null> {
  for (const name of RENDERERS) if (await STACKS[name].detect(probe)) return STACKS[name];
  return null;
}
