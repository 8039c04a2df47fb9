import { main as mdataDelete } from './mdata-delete';
import { main as mdataGet } from './mdata-get';
import { main as mdataList } from './mdata-list';
import { main as mdataPut } from './mdata-put';
import { main as mdataServer } from './mdata-server';
import type { ToolMain } from './run';

/** Every tool in the multi-call executable, by the name it is invoked as. */
export const TOOLS: Record<string, ToolMain> = {
  'mdata-get': mdataGet,
  'mdata-put': mdataPut,
  'mdata-list': mdataList,
  'mdata-delete': mdataDelete,
  'mdata-server': mdataServer,
};
