/*
 * The "panic-drift-readahead" VFS: the default VFS, except that a main
 * database file read sequentially is read READAHEAD_BYTES at a time.
 *
 * A compute reads each run's embeddings in rowid order: mostly one 4 KB page
 * after the other, interleaved with the invocation pages they join to. SQLite
 * reads a page per system call, and the system call (not the copy) was about
 * a quarter of a compute's CPU. Here a read that continues the previous one
 * fills a buffer of READAHEAD_BYTES from that offset, and the pages after it
 * are copied from the buffer; any other read goes to the file as before.
 *
 * Why the buffer is never stale: SQLite reads the database file only inside a
 * read transaction, and during one the file's bytes at the pages it reads
 * from the file cannot change (a rollback-journal writer waits for the shared
 * lock; a WAL checkpoint never writes a page past the oldest reader's
 * snapshot, and such a page is read from the WAL, not the file). Every lock
 * call (xLock, xUnlock, xShmLock) marks a transaction's start or end, and
 * empties the buffer, as does any write or truncation.
 *
 * Registered (not as the default) when the extension is first loaded; a
 * connection uses it only when opened with ?vfs=panic-drift-readahead, and
 * panic_drift_readahead(0) turns it off for the connection's database (a
 * scan in storage order: there the next pages are often an image's, which
 * are never to be read).
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include <string.h>

#define READAHEAD_VFS "panic-drift-readahead"
#define READAHEAD_BYTES (128 * 1024)
/* Only reads of at most a page (the largest SQLite page is 64 KB) start a read-ahead. */
#define READAHEAD_MAX_REQUEST (64 * 1024)
/* The file control (sqlite3_file_control) that turns read-ahead on or off for a connection's file. */
#define READAHEAD_FCNTL 0x50447261

typedef struct {
  sqlite3_file base;
  sqlite3_file *real; /* the default VFS's file, allocated right after this struct */
  int isMainDb;
  int readAhead;      /* a main database file, and not turned off */
  unsigned char *buffer;
  sqlite3_int64 bufferStart;
  int bufferLength;         /* 0: empty */
  sqlite3_int64 lastEnd;    /* where the last read from the file ended; -1: none */
} ReadAheadFile;

static sqlite3_vfs *realVfs;

static void forget(ReadAheadFile *file) {
  file->bufferLength = 0;
  file->lastEnd = -1;
}

static int raClose(sqlite3_file *f) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  int rc = file->real->pMethods->xClose(file->real);
  sqlite3_free(file->buffer);
  file->buffer = NULL;
  return rc;
}

static int raRead(sqlite3_file *f, void *out, int amount, sqlite3_int64 offset) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  sqlite3_file *real = file->real;
  if (!file->readAhead || amount <= 0) return real->pMethods->xRead(real, out, amount, offset);
  if (file->bufferLength > 0 && offset >= file->bufferStart && offset + amount <= file->bufferStart + file->bufferLength) {
    memcpy(out, file->buffer + (offset - file->bufferStart), (size_t)amount);
    return SQLITE_OK;
  }
  int sequential = (file->bufferLength > 0 && offset == file->bufferStart + file->bufferLength) || offset == file->lastEnd;
  if (sequential && amount <= READAHEAD_MAX_REQUEST) {
    if (file->buffer == NULL) file->buffer = sqlite3_malloc(READAHEAD_BYTES);
    if (file->buffer != NULL) {
      int rc = real->pMethods->xRead(real, file->buffer, READAHEAD_BYTES, offset);
      if (rc == SQLITE_OK) {
        file->bufferStart = offset;
        file->bufferLength = READAHEAD_BYTES;
        memcpy(out, file->buffer, (size_t)amount);
        return SQLITE_OK;
      }
      /* Near the end of the file (a short read) or an error: read what was asked, as SQLite would have. */
      file->bufferLength = 0;
    }
  }
  int rc = real->pMethods->xRead(real, out, amount, offset);
  file->lastEnd = offset + amount;
  return rc;
}

static int raWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xWrite(file->real, data, amount, offset);
}

static int raTruncate(sqlite3_file *f, sqlite3_int64 size) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xTruncate(file->real, size);
}

static int raSync(sqlite3_file *f, int flags) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xSync(file->real, flags);
}

static int raFileSize(sqlite3_file *f, sqlite3_int64 *size) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xFileSize(file->real, size);
}

static int raLock(sqlite3_file *f, int level) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xLock(file->real, level);
}

static int raUnlock(sqlite3_file *f, int level) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xUnlock(file->real, level);
}

static int raCheckReservedLock(sqlite3_file *f, int *out) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xCheckReservedLock(file->real, out);
}

static int raFileControl(sqlite3_file *f, int op, void *arg) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  if (op == READAHEAD_FCNTL) {
    /* *arg: 1 on, 0 off (a scan in storage order, whose next pages are often another table's or an image's), -1 ask; set to the previous state. */
    int *state = (int *)arg;
    int previous = file->readAhead;
    if (*state >= 0) file->readAhead = file->isMainDb && *state != 0;
    forget(file);
    *state = previous;
    return SQLITE_OK;
  }
  if (op == SQLITE_FCNTL_VFSNAME && arg != NULL) {
    int rc = file->real->pMethods->xFileControl(file->real, op, arg);
    if (rc == SQLITE_OK) {
      char *inner = *(char **)arg;
      *(char **)arg = sqlite3_mprintf("%s/%s", READAHEAD_VFS, inner != NULL ? inner : "");
      sqlite3_free(inner);
    }
    return rc;
  }
  return file->real->pMethods->xFileControl(file->real, op, arg);
}

static int raSectorSize(sqlite3_file *f) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xSectorSize(file->real);
}

static int raDeviceCharacteristics(sqlite3_file *f) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int raShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **out) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  return file->real->pMethods->xShmMap(file->real, region, size, extend, out);
}

static int raShmLock(sqlite3_file *f, int offset, int n, int flags) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xShmLock(file->real, offset, n, flags);
}

static void raShmBarrier(sqlite3_file *f) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  file->real->pMethods->xShmBarrier(file->real);
}

static int raShmUnmap(sqlite3_file *f, int deleteFlag) {
  ReadAheadFile *file = (ReadAheadFile *)f;
  forget(file);
  return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

/* No memory-mapped pages: every page goes through xRead (mmap_size is 0 by default). */
static int raFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
  (void)f;
  (void)offset;
  (void)amount;
  *out = NULL;
  return SQLITE_OK;
}

static int raUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *page) {
  (void)f;
  (void)offset;
  (void)page;
  return SQLITE_OK;
}

static const sqlite3_io_methods readAheadMethods = {
    3,          raClose,       raRead,     raWrite,      raTruncate,   raSync,   raFileSize,
    raLock,     raUnlock,      raCheckReservedLock,      raFileControl, raSectorSize,
    raDeviceCharacteristics,   raShmMap,   raShmLock,    raShmBarrier, raShmUnmap,
    raFetch,    raUnfetch,
};

static int raOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags) {
  (void)vfs;
  ReadAheadFile *file = (ReadAheadFile *)f;
  memset(file, 0, sizeof(ReadAheadFile));
  file->real = (sqlite3_file *)&file[1];
  int rc = realVfs->xOpen(realVfs, name, file->real, flags, outFlags);
  if (file->real->pMethods == NULL) return rc;
  /* The default VFS's files have every method of version 3: each is forwarded. */
  if (file->real->pMethods->iVersion < 3) {
    file->real->pMethods->xClose(file->real);
    return SQLITE_CANTOPEN;
  }
  file->isMainDb = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  file->readAhead = file->isMainDb;
  file->lastEnd = -1;
  file->base.pMethods = &readAheadMethods;
  return rc;
}

static int raDelete(sqlite3_vfs *vfs, const char *name, int syncDir) {
  (void)vfs;
  return realVfs->xDelete(realVfs, name, syncDir);
}

static int raAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
  (void)vfs;
  return realVfs->xAccess(realVfs, name, flags, out);
}

static int raFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
  (void)vfs;
  return realVfs->xFullPathname(realVfs, name, size, out);
}

static void *raDlOpen(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return realVfs->xDlOpen(realVfs, name);
}

static void raDlError(sqlite3_vfs *vfs, int size, char *out) {
  (void)vfs;
  realVfs->xDlError(realVfs, size, out);
}

static void (*raDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
  (void)vfs;
  return realVfs->xDlSym(realVfs, handle, symbol);
}

static void raDlClose(sqlite3_vfs *vfs, void *handle) {
  (void)vfs;
  realVfs->xDlClose(realVfs, handle);
}

static int raRandomness(sqlite3_vfs *vfs, int size, char *out) {
  (void)vfs;
  return realVfs->xRandomness(realVfs, size, out);
}

static int raSleep(sqlite3_vfs *vfs, int microseconds) {
  (void)vfs;
  return realVfs->xSleep(realVfs, microseconds);
}

static int raCurrentTime(sqlite3_vfs *vfs, double *out) {
  (void)vfs;
  return realVfs->xCurrentTime(realVfs, out);
}

static int raGetLastError(sqlite3_vfs *vfs, int size, char *out) {
  (void)vfs;
  return realVfs->xGetLastError(realVfs, size, out);
}

static int raCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
  (void)vfs;
  return realVfs->xCurrentTimeInt64(realVfs, out);
}

static sqlite3_vfs readAheadVfs = {
    2,    0,    0,    NULL,          READAHEAD_VFS,  NULL,
    raOpen,     raDelete,     raAccess,     raFullPathname, raDlOpen, raDlError,
    raDlSym,    raDlClose,    raRandomness, raSleep,        raCurrentTime, raGetLastError,
    raCurrentTimeInt64,
    NULL, NULL, NULL,
};

/*
 * Registers the VFS once per process (connections on every thread share it).
 * The caller keeps this library loaded for the rest of the process: the VFS
 * outlives the connection that loaded it.
 */
int registerReadAheadVfs(void) {
  sqlite3_mutex *mutex = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP1);
  sqlite3_mutex_enter(mutex);
  int rc = SQLITE_OK;
  if (sqlite3_vfs_find(READAHEAD_VFS) == NULL) {
    sqlite3_vfs *base = sqlite3_vfs_find(NULL);
    if (base == NULL || base->iVersion < 2) {
      rc = SQLITE_ERROR;
    } else {
      realVfs = base;
      readAheadVfs.szOsFile = (int)sizeof(ReadAheadFile) + base->szOsFile;
      readAheadVfs.mxPathname = base->mxPathname;
      rc = sqlite3_vfs_register(&readAheadVfs, 0);
    }
  }
  sqlite3_mutex_leave(mutex);
  return rc;
}
