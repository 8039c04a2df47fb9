# Test images only: the reporting helpers every step sources.

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# mark NAME VALUE...: one line on the console for the host.
mark() {
  name=$1
  shift
  echo "SDCVM $name $*"
}

# save NAME COMMAND...: COMMAND's stdout and stderr go to $OUT/NAME.out and .err; its exit status
# is marked. The host reads the files from the disk image after the guest has powered off.
save() {
  name=$1
  shift
  "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" < /dev/null
  rc=$?
  mark "$name" "rc=$rc"
  return 0
}
