#!/bin/bash
# Runs every test file with uvu and ends with a plain "N passed, N failed" line.
set -o pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
node_modules/.bin/uvu -r tsm test '\.test\.ts$' 2>&1 | tee "$log"
rc=$?
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
total=$(echo "$plain" | awk '/^ *Total:/{n=$2} END{print n+0}')
passed=$(echo "$plain" | awk '/^ *Passed:/{n=$2} END{print n+0}')
[ "$rc" -ne 0 ] && [ "$total" -eq "$passed" ] && total=$((total + 1))
echo "$passed passed, $((total - passed)) failed"
exit $rc
