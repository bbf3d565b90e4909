/*
 * The library is also a Node addon (Node-API), with one function:
 * bindOutput(arrayBuffer) makes an ArrayBuffer the calling thread's output
 * for panic_drift_rows_into(...) (panic_drift_sqlite.c). better-sqlite3 copies
 * every blob it returns into a new Node buffer: a malloc, fresh pages to fault
 * in, and external memory for the garbage collector, once per ~1 MB slice.
 * Written into a buffer JavaScript already holds, a packed slice costs one
 * memcpy into memory that stays warm (measured: docs/performance.md).
 *
 * The binding is per thread: better-sqlite3 runs a statement on the thread
 * that calls it, so the aggregate's final step runs on the thread whose
 * buffer it writes, and the caller reads the bytes before it steps again.
 * A reference keeps the ArrayBuffer alive while it is bound; JavaScript must
 * not transfer (detach) it.
 */
#include <node_api.h>
#include <stddef.h>
#include "packed_output.h"

static _Thread_local unsigned char *boundData;
static _Thread_local size_t boundCapacity;
static _Thread_local napi_ref boundReference;
static _Thread_local napi_env boundEnv;

unsigned char *packedOutput(size_t *capacity) {
  *capacity = boundData != NULL ? boundCapacity : 0;
  return boundData;
}

static void unbind(void *unused) {
  (void)unused;
  boundData = NULL;
  boundCapacity = 0;
  boundReference = NULL;
  boundEnv = NULL;
}

static napi_value bindOutput(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  bool isArrayBuffer = false;
  if (argc < 1 || napi_is_arraybuffer(env, argv[0], &isArrayBuffer) != napi_ok || !isArrayBuffer) {
    napi_throw_type_error(env, NULL, "bindOutput: expected an ArrayBuffer");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  napi_ref reference = NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok || napi_create_reference(env, argv[0], 1, &reference) != napi_ok) {
    napi_throw_error(env, NULL, "bindOutput: cannot hold the ArrayBuffer");
    return NULL;
  }
  if (boundReference != NULL && boundEnv == env) napi_delete_reference(env, boundReference);
  if (boundEnv == NULL) napi_add_env_cleanup_hook(env, unbind, NULL);
  boundData = data;
  boundCapacity = length;
  boundReference = reference;
  boundEnv = env;
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "bindOutput", NAPI_AUTO_LENGTH, bindOutput, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "bindOutput", function) != napi_ok) return NULL;
  return exports;
}
