import type { RootedFiles } from '../context';

/** The fields of one user's line in the text of a colon-separated account file (passwd, shadow), matched by exact name. */
export function accountFields(text: string, user: string): string[] | null {
  const line = text.split('\n').find((l) => l.split(':')[0] === user);
  return line === undefined ? null : line.split(':');
}

/** The same, read from the account file under the root. */
export async function accountLine(files: RootedFiles, file: string, user: string): Promise<string[] | null> {
  return accountFields((await files.readText(file)) ?? '', user);
}

/** A user's home folder from /etc/passwd; root's defaults to /root. */
export async function homeOf(files: RootedFiles, user: string): Promise<string> {
  const home = (await accountLine(files, '/etc/passwd', user))?.[5];
  return home && home.startsWith('/') ? home.replace(/\/+$/, '') || '/' : user === 'root' ? '/root' : `/home/${user}`;
}
