/*
 * panic_drift_rows(v1, ..., vN): a SQLite aggregate that packs the rows it
 * is given into one blob, so that a reader gets a run's rows as one value
 * instead of N values per row (a JavaScript value, and for a vector a
 * buffer of its own, each). Loaded by src/sources/sqlite/rowPacking.ts,
 * which reads the blob back into exactly the values better-sqlite3 would
 * have returned; without this library the rows are read one by one.
 *
 * Layout: byte 0 is PACK_VERSION, byte 1 the column count; then, per row and
 * column, a tag byte (0 NULL, 1 INTEGER, 2 FLOAT, 3 TEXT, 4 BLOB) and its
 * payload: 8 bytes little-endian (int64, IEEE double), or a 4-byte
 * little-endian length and the bytes (TEXT as UTF-8, as SQLite gives it).
 * A group whose blob would pass PACK_LIMIT bytes (or the connection's lower
 * limit, set by panic_drift_rows_limit(bytes) in tests) yields the one-byte
 * blob {0}: the reader then reads that group row by row.
 *
 * panic_drift_rows_into(kinds, v1, ..., vN) packs the same way into the
 * calling thread's output buffer (packed_output.c) and returns the length
 * (or the blob, if nothing is bound or the rows do not fit). `kinds` has a
 * character per column: 'u' (an id), 't' (a timestamp), 'b' (text kept as
 * UTF-8 bytes), anything else as is; such a column may then also carry
 * tag 5 (16 bytes: the id in DuckDB's UUID layout), 6 (8 bytes: the
 * timestamp in microseconds) or 7 (like 3, but well-formed UTF-8). See
 * column_kinds.c. The library also registers the read-ahead VFS
 * (readahead_vfs.c) and panic_drift_readahead(on), its switch.
 */
/* dladdr (glibc declares it only with _GNU_SOURCE) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <dlfcn.h>
#endif

int registerReadAheadVfs(void);
#include "packed_output.h"
#include "column_kinds.h"

#define PACK_VERSION 1
/* Tags of panic_drift_rows_into's converted columns (after 0 NULL, 1 INTEGER, 2 FLOAT, 3 TEXT, 4 BLOB). */
#define TAG_UUID 5
#define TAG_MICROS 6
#define TAG_UTF8 7
#define PACK_LIMIT ((size_t)256 << 20)
/* The scratch buffer kept between groups: at most this (groups are ~1 MB slices). */
#define SCRATCH_KEEP ((size_t)16 << 20)

typedef struct {
  unsigned char *data;
  size_t length;
  size_t capacity;
  int failed; /* 1: out of memory; 2: over PACK_LIMIT; 3: too many columns */
  int started; /* the first row has been seen (the buffer chosen) */
  int ownsData; /* 0: data is the connection's scratch buffer, or the thread's output */
  int inOutput; /* data is the thread's bound output buffer (panic_drift_rows_into) */
} Pack;

/*
 * One buffer per connection that groups are packed into, grown as needed and
 * kept: no allocation per group. The blob is handed over as SQLITE_STATIC:
 * the caller copies it before it steps again (better-sqlite3 does), and the
 * next group only starts on a later step. A group that starts while the
 * buffer is in use (two of these aggregates in one statement) packs into a
 * buffer of its own.
 */
typedef struct {
  unsigned char *data;
  size_t capacity;
  Pack *user;
  size_t limit; /* PACK_LIMIT, or less (panic_drift_rows_limit: for tests) */
} Scratch;

static int reserve(sqlite3_context *context, Pack *pack, size_t more) {
  if (pack->length + more > ((Scratch *)sqlite3_user_data(context))->limit) {
    pack->failed = 2;
    return 0;
  }
  if (pack->length + more <= pack->capacity) return 1;
  if (pack->length + more > PACK_LIMIT) {
    pack->failed = 2;
    return 0;
  }
  size_t capacity = pack->capacity > 0 ? pack->capacity : 65536;
  while (capacity < pack->length + more) capacity *= 2;
  unsigned char *data;
  if (pack->inOutput) {
    /* Outgrew the thread's output buffer: on in a buffer of its own (the result is then a blob). */
    data = sqlite3_malloc64(capacity);
    if (data != NULL) {
      memcpy(data, pack->data, pack->length);
      pack->inOutput = 0;
      pack->ownsData = 1;
    }
  } else {
    data = sqlite3_realloc64(pack->data, capacity);
  }
  if (data == NULL) {
    pack->failed = 1;
    return 0;
  }
  pack->data = data;
  pack->capacity = capacity;
  if (!pack->ownsData) {
    Scratch *scratch = sqlite3_user_data(context);
    scratch->data = data;
    scratch->capacity = capacity;
  }
  return 1;
}

static void put64(unsigned char *at, uint64_t value) {
  for (int i = 0; i < 8; i++) at[i] = (unsigned char)(value >> (8 * i));
}

static void put32(unsigned char *at, uint32_t value) {
  for (int i = 0; i < 4; i++) at[i] = (unsigned char)(value >> (8 * i));
}

static void packRow(sqlite3_context *context, int argc, sqlite3_value **argv, int intoOutput) {
  Pack *pack = sqlite3_aggregate_context(context, sizeof(Pack));
  if (pack == NULL) {
    sqlite3_result_error_nomem(context);
    return;
  }
  if (pack->failed != 0) return;
  /* panic_drift_rows_into's first argument: a column's kind per character ('u' id, 't' timestamp, 'b' text kept as UTF-8 bytes, other: as is). */
  const unsigned char *spec = NULL;
  int specLength = 0;
  if (intoOutput) {
    if (argc < 1) {
      pack->failed = 3;
      sqlite3_result_error(context, "panic_drift_rows_into: the first argument is the columns' kinds", -1);
      return;
    }
    spec = sqlite3_value_text(argv[0]);
    specLength = spec != NULL ? sqlite3_value_bytes(argv[0]) : 0;
    argv++;
    argc--;
  }
  if (!pack->started) {
    pack->started = 1;
    if (argc > 255) {
      pack->failed = 3;
      sqlite3_result_error(context, "panic_drift_rows: at most 255 columns", -1);
      return;
    }
    Scratch *scratch = sqlite3_user_data(context);
    size_t outputCapacity = 0;
    unsigned char *output = intoOutput ? packedOutput(&outputCapacity) : NULL;
    if (output != NULL && outputCapacity >= 2) {
      pack->data = output;
      pack->capacity = outputCapacity;
      pack->ownsData = 0;
      pack->inOutput = 1;
    } else if (scratch->user == NULL) {
      /* A buffer grown by an unusually large group is not kept for the rest of the connection. */
      if (scratch->capacity > SCRATCH_KEEP) {
        sqlite3_free(scratch->data);
        scratch->data = NULL;
        scratch->capacity = 0;
      }
      scratch->user = pack;
      pack->data = scratch->data;
      pack->capacity = scratch->capacity;
      pack->ownsData = 0;
    } else {
      pack->ownsData = 1;
    }
    if (!reserve(context, pack, 2)) return;
    pack->data[0] = PACK_VERSION;
    pack->data[1] = (unsigned char)argc;
    pack->length = 2;
  }
  for (int i = 0; i < argc; i++) {
    sqlite3_value *value = argv[i];
    int type = sqlite3_value_type(value);
    unsigned char kind = i < specLength ? spec[i] : '.';
    if (kind == 'u' && type == SQLITE_TEXT) {
      const unsigned char *text = sqlite3_value_text(value);
      unsigned char uuid[16];
      if (text != NULL && packUuid(text, sqlite3_value_bytes(value), uuid)) {
        if (!reserve(context, pack, 17)) return;
        pack->data[pack->length] = TAG_UUID;
        memcpy(pack->data + pack->length + 1, uuid, 16);
        pack->length += 17;
        continue;
      }
    } else if (kind == 't' && type == SQLITE_TEXT) {
      const unsigned char *text = sqlite3_value_text(value);
      int64_t micros;
      if (text != NULL && packMicros(text, sqlite3_value_bytes(value), &micros)) {
        if (!reserve(context, pack, 9)) return;
        pack->data[pack->length] = TAG_MICROS;
        put64(pack->data + pack->length + 1, (uint64_t)micros);
        pack->length += 9;
        continue;
      }
    } else if (kind == 'b' && type == SQLITE_TEXT) {
      const unsigned char *text = sqlite3_value_text(value);
      int size = sqlite3_value_bytes(value);
      if (text != NULL && isWellFormedUtf8(text, size)) {
        if (!reserve(context, pack, 5 + (size_t)size)) return;
        pack->data[pack->length] = TAG_UTF8;
        put32(pack->data + pack->length + 1, (uint32_t)size);
        if (size > 0) memcpy(pack->data + pack->length + 5, text, (size_t)size);
        pack->length += 5 + (size_t)size;
        continue;
      }
    } else if (kind == 't' && type != SQLITE_NULL) {
      /* Not text, so not a timestamp: the empty text, which the reader counts as unreadable as it would the value. */
      if (!reserve(context, pack, 5)) return;
      pack->data[pack->length] = 3;
      put32(pack->data + pack->length + 1, 0);
      pack->length += 5;
      continue;
    }
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
      if (!reserve(context, pack, 9)) return;
      uint64_t bits;
      if (type == SQLITE_INTEGER) {
        bits = (uint64_t)sqlite3_value_int64(value);
      } else {
        double real = sqlite3_value_double(value);
        memcpy(&bits, &real, 8);
      }
      pack->data[pack->length] = type == SQLITE_INTEGER ? 1 : 2;
      put64(pack->data + pack->length + 1, bits);
      pack->length += 9;
    } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
      const void *bytes = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(value) : sqlite3_value_blob(value);
      size_t size = (size_t)sqlite3_value_bytes(value);
      if (bytes == NULL && size > 0) {
        sqlite3_result_error_nomem(context);
        return;
      }
      if (!reserve(context, pack, 5 + size)) return;
      pack->data[pack->length] = type == SQLITE_TEXT ? 3 : 4;
      put32(pack->data + pack->length + 1, (uint32_t)size);
      if (size > 0) memcpy(pack->data + pack->length + 5, bytes, size);
      pack->length += 5 + size;
    } else {
      if (!reserve(context, pack, 1)) return;
      pack->data[pack->length++] = 0;
    }
  }
}

static void rowsStep(sqlite3_context *context, int argc, sqlite3_value **argv) {
  packRow(context, argc, argv, 0);
}

static void rowsIntoStep(sqlite3_context *context, int argc, sqlite3_value **argv) {
  packRow(context, argc, argv, 1);
}

static void rowsFinal(sqlite3_context *context) {
  static const unsigned char tooLarge[1] = {0};
  Pack *pack = sqlite3_aggregate_context(context, 0);
  if (pack == NULL) {
    sqlite3_result_null(context); /* no rows */
    return;
  }
  Scratch *scratch = sqlite3_user_data(context);
  if (scratch->user == pack) scratch->user = NULL;
  if (pack->failed == 0 && pack->length > 0) {
    /* The scratch buffer stays the connection's; a buffer of its own goes with the result. */
    sqlite3_result_blob64(context, pack->data, pack->length, pack->ownsData ? sqlite3_free : SQLITE_STATIC);
    return;
  }
  if (pack->failed == 1) {
    sqlite3_result_error_nomem(context);
  } else if (pack->failed == 2) {
    sqlite3_result_blob(context, tooLarge, 1, SQLITE_TRANSIENT);
  } else if (pack->failed == 3) {
    sqlite3_result_error(context, "panic_drift_rows: at most 255 columns", -1);
  } else {
    sqlite3_result_null(context);
  }
  if (pack->ownsData) sqlite3_free(pack->data);
}

/*
 * panic_drift_rows_into(v1, ..., vN): the same rows, written into the calling
 * thread's bound output buffer (packed_output.c); returns their length in
 * bytes. Where nothing is bound or the rows do not fit, returns the blob, as
 * panic_drift_rows does.
 */
static void rowsIntoFinal(sqlite3_context *context) {
  Pack *pack = sqlite3_aggregate_context(context, 0);
  if (pack != NULL && pack->inOutput) {
    if (pack->failed == 0 && pack->length > 0) {
      sqlite3_result_int64(context, (sqlite3_int64)pack->length);
    } else {
      pack->ownsData = 0;
      rowsFinal(context);
    }
    return;
  }
  size_t capacity = 0;
  unsigned char *output = packedOutput(&capacity);
  if (pack != NULL && pack->failed == 0 && pack->length > 0 && output != NULL && pack->length <= capacity) {
    Scratch *scratch = sqlite3_user_data(context);
    if (scratch->user == pack) scratch->user = NULL;
    memcpy(output, pack->data, pack->length);
    sqlite3_result_int64(context, (sqlite3_int64)pack->length);
    if (pack->ownsData) sqlite3_free(pack->data);
    return;
  }
  rowsFinal(context);
}

/* panic_drift_rows_limit(bytes): this connection's blob limit (at most PACK_LIMIT); returns the previous one. */
static void rowsLimit(sqlite3_context *context, int argc, sqlite3_value **argv) {
  (void)argc;
  Scratch *scratch = sqlite3_user_data(context);
  sqlite3_int64 previous = (sqlite3_int64)scratch->limit;
  sqlite3_int64 bytes = sqlite3_value_int64(argv[0]);
  scratch->limit = bytes > 0 && (size_t)bytes < PACK_LIMIT ? (size_t)bytes : PACK_LIMIT;
  sqlite3_result_int64(context, previous);
}

static void freeScratch(void *pointer) {
  Scratch *scratch = pointer;
  sqlite3_free(scratch->data);
  sqlite3_free(scratch);
}

/*
 * Keeps this library loaded for the rest of the process, whatever closes the
 * connection that loaded it: the VFS it registers is used by later
 * connections. Returns 0 if that cannot be done (then no VFS is registered).
 */
static int pinLibrary(void) {
#ifdef _WIN32
  return 0;
#else
  Dl_info info;
  if (dladdr((void *)&pinLibrary, &info) == 0 || info.dli_fname == NULL) return 0;
  return dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE) != NULL;
#endif
}

/* panic_drift_readahead_vfs(): the read-ahead VFS's name, or NULL where it is not registered. */
static void readAheadVfsName(sqlite3_context *context, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  if (sqlite3_vfs_find("panic-drift-readahead") != NULL) {
    sqlite3_result_text(context, "panic-drift-readahead", -1, SQLITE_STATIC);
  } else {
    sqlite3_result_null(context);
  }
}

/* panic_drift_readahead(on): read-ahead on (1) or off (0) for this connection's main database; returns the previous state, or NULL without the VFS. */
static void readAheadSwitch(sqlite3_context *context, int argc, sqlite3_value **argv) {
  (void)argc;
  int state = sqlite3_value_int(argv[0]) != 0;
  if (sqlite3_file_control(sqlite3_context_db_handle(context), "main", 0x50447261, &state) == SQLITE_OK) {
    sqlite3_result_int(context, state);
  } else {
    sqlite3_result_null(context);
  }
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_panicdriftsqlite_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
  (void)error;
  SQLITE_EXTENSION_INIT2(api);
  Scratch *scratch = sqlite3_malloc(sizeof(Scratch));
  if (scratch == NULL) return SQLITE_NOMEM;
  memset(scratch, 0, sizeof(Scratch));
  scratch->limit = PACK_LIMIT;
  int rc = sqlite3_create_function_v2(db, "panic_drift_rows", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, scratch, NULL, rowsStep, rowsFinal, freeScratch);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_create_function_v2(db, "panic_drift_rows_into", -1, SQLITE_UTF8, scratch, NULL, rowsIntoStep, rowsIntoFinal, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_create_function(db, "panic_drift_rows_limit", 1, SQLITE_UTF8, scratch, rowsLimit, NULL, NULL);
  if (rc != SQLITE_OK) return rc;
  /* The VFS is an optimisation: without it (no pinning, an odd default VFS), reads go to the default VFS. */
  if (pinLibrary()) registerReadAheadVfs();
  rc = sqlite3_create_function(db, "panic_drift_readahead", 1, SQLITE_UTF8, NULL, readAheadSwitch, NULL, NULL);
  if (rc != SQLITE_OK) return rc;
  return sqlite3_create_function(db, "panic_drift_readahead_vfs", 0, SQLITE_UTF8, NULL, readAheadVfsName, NULL, NULL);
}
