import type { ToolMain } from './run';

/** Every tool in the multi-call executable, by the name it is invoked as; loaded on first use. */
export const TOOLS: Record<string, () => Promise<ToolMain>> = {
  'mdata-get': async () => (await import('./mdata-get')).main,
  'mdata-put': async () => (await import('./mdata-put')).main,
  'mdata-list': async () => (await import('./mdata-list')).main,
  'mdata-delete': async () => (await import('./mdata-delete')).main,
  'mdata-server': async () => (await import('./mdata-server')).main,
};
