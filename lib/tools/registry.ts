import type { ToolMain } from './run';

/** The mdata tools, loaded on first use: they start fast because nothing else is loaded. */
const METADATA_TOOLS: Record<string, () => Promise<ToolMain>> = {
  'mdata-get': async () => (await import('./mdata-get')).main,
  'mdata-put': async () => (await import('./mdata-put')).main,
  'mdata-list': async () => (await import('./mdata-list')).main,
  'mdata-delete': async () => (await import('./mdata-delete')).main,
  'mdata-server': async () => (await import('./mdata-server')).main,
};

/** Every tool of the multi-call executable by the name it is invoked as: the mdata tools, then the guest tools. */
export async function findTool(name: string): Promise<ToolMain | null> {
  if (Object.hasOwn(METADATA_TOOLS, name)) return METADATA_TOOLS[name]();
  return (await import('./guest-tools')).guestTool(name);
}

export async function toolNames(): Promise<string[]> {
  return [...Object.keys(METADATA_TOOLS), ...(await import('./guest-tools')).guestToolNames()];
}
