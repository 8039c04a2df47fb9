#!/bin/sh
# Installs the Debian packages named in the given lists that are not installed yet.
#   sh build/install-debian-packages.sh LIST...
set -eu
missing=""
for pkg in $(cat "$@" | sed -e 's/#.*//'); do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "debian packages: installing$missing"
if [ "$(id -u)" != 0 ]; then
  echo "error: run as root, or: sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "debian packages: done"
