import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { treeListing } from './tree';

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

/**
 * The root and everything under it, as `treeListing` lists them. Kept under this name for
 * test/unit/guest-actions.test.ts; new code calls `treeListing(root, { withDir: true })`.
 */
export function treeHash(root: string): string {
  return treeListing(root, { withDir: true });
}
