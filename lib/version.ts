import { version } from '../package.json';

declare const SDC_BUILD_COMMIT: string | undefined;

export const VERSION: string = version;
/** The source commit, set by the build; `unknown` when run from sources. */
export const COMMIT: string = typeof SDC_BUILD_COMMIT === 'string' ? SDC_BUILD_COMMIT : 'unknown';

/** What `--version` prints: `<name> <version> (<commit>)`. */
export function versionLine(name: string): string {
  return `${name} ${VERSION} (${COMMIT})\n`;
}
