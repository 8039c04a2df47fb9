import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A Debian-like guest: root's accounts (locked with `*`), the stock hosts file, ifupdown, one NIC. */
export const DEBIAN_GUEST: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nfakeroot:x:1000:1000::/home/fakeroot:/bin/sh\n',
  '/etc/shadow': 'root:*:19000:0:99999:7:::\nfakeroot:$6$salt$alreadyset:19000:0:99999:7:::\n',
  '/etc/hosts': '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n',
  '/etc/network/interfaces': 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n',
  '/usr/sbin/ifup': '',
  '/sys/class/net/eth0/address': '90:b8:d0:00:00:01\n',
  '/sys/class/net/eth0/device/vendor': '0x1af4\n',
  '/sys/class/net/lo/address': '00:00:00:00:00:00\n',
};

/** A fresh prefix root holding `files` (guest path -> content). */
export function makeGuestRoot(files: Record<string, string>, parent = tmpdir()): string {
  const root = mkdtempSync(join(parent, 'guest-root-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** A hash of a tree: every path, its type, mode, link target and content. */
export function treeHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const full = join(root, rel);
    const st = lstatSync(full);
    hash.update(`${rel}\0${st.mode.toString(8)}\0`);
    if (st.isSymbolicLink()) hash.update(`-> ${readlinkSync(full)}\0`);
    else if (st.isDirectory()) for (const name of readdirSync(full).sort()) walk(join(rel, name));
    else hash.update(readFileSync(full)).update('\0');
  };
  walk('.');
  return hash.digest('hex');
}
