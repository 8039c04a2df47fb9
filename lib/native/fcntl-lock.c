/*
 * POSIX record lock (fcntl F_SETLK) for Node, as an N-API module.
 * Exports tryLock(fd): true when the whole-file write lock is taken,
 * false when another process holds a conflicting lock.
 */
#define _POSIX_C_SOURCE 200809L
#define NAPI_VERSION 8

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <node_api.h>

static napi_value try_lock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "tryLock(fd): fd must be a number");
    return NULL;
  }

  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;

  int rc;
  do {
    rc = fcntl(fd, F_SETLK, &fl);
  } while (rc == -1 && errno == EINTR);

  int err = rc == -1 ? errno : 0;
  if (err != 0 && err != EAGAIN && err != EACCES) {
    char msg[160];
    snprintf(msg, sizeof msg, "fcntl(F_SETLK) failed: %s (errno %d)", strerror(err), err);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }

  napi_value result;
  napi_get_boolean(env, rc == 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "tryLock", NAPI_AUTO_LENGTH, try_lock, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "tryLock", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
