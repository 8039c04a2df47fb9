/*
 * The sdc-guest launcher: starts the tools on any x86-64 Linux, whatever its C library (old
 * glibc, musl, none). It runs runtime/sdc-guest, found next to this file, through the private
 * glibc loader in runtime/, with runtime/ as the only library folder:
 *
 *   runtime/ld-linux-x86-64.so.2 --library-path runtime --inhibit-cache --argv0 ARGV0 runtime/sdc-guest ARGS...
 *
 * --argv0 keeps the name it was started as (mdata-get, ...), which picks the tool. The loader
 * takes no environment variable, so the tools' child processes start with the guest's own
 * libraries. Linked statically (musl), so it needs no C library itself. Exit 127 when the
 * loader cannot be started.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOADER "ld-linux-x86-64.so.2"

/* The folder this file really is in: from /proc/self/exe, else from a path in argv[0]. */
static int own_folder(const char *argv0, char *folder) {
  ssize_t n = readlink("/proc/self/exe", folder, PATH_MAX - 1);
  if (n > 0) {
    folder[n] = '\0';
  } else if (!strchr(argv0, '/') || !realpath(argv0, folder)) {
    return -1;
  }
  *strrchr(folder, '/') = '\0';
  return 0;
}

static void fail(const char *what, const char *path) {
  fprintf(stderr, "sdc-guest: %s %s: %s\n", what, path, strerror(errno));
  exit(127);
}

int main(int argc, char **argv) {
  const char *argv0 = argc > 0 ? argv[0] : "sdc-guest";
  char folder[PATH_MAX], runtime[PATH_MAX], loader[PATH_MAX], program[PATH_MAX];
  if (own_folder(argv0, folder) != 0) {
    fprintf(stderr, "sdc-guest: cannot find the folder it is in: mount /proc, or start it by its path\n");
    return 127;
  }
  if (snprintf(runtime, PATH_MAX, "%s/runtime", folder) >= PATH_MAX ||
      snprintf(loader, PATH_MAX, "%s/" LOADER, runtime) >= PATH_MAX ||
      snprintf(program, PATH_MAX, "%s/sdc-guest", runtime) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    fail("cannot run from", folder);
  }
  char **args = calloc((size_t)argc + 8, sizeof *args);
  if (!args) fail("out of memory for", loader);
  int n = 0;
  args[n++] = loader;
  args[n++] = "--library-path";
  args[n++] = runtime;
  args[n++] = "--inhibit-cache";
  args[n++] = "--argv0";
  args[n++] = (char *)argv0;
  args[n++] = program;
  for (int i = 1; i < argc; i++) args[n++] = argv[i];
  execv(loader, args);
  fail("cannot run", loader);
  return 127;
}
