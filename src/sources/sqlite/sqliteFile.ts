import Database from "better-sqlite3";
import { closeSync, existsSync, readSync, statSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { PanicDriftError } from "../../common/errors.js";
import { notRegularFile, openRegularFileSync } from "../../common/regularFile.js";
import { readAheadVfs } from "./nativeLibrary.js";

/** A column's value as better-sqlite3 returns it (without safeIntegers): what the file stores, whatever the schema says. */
export type SqliteValue = string | number | Buffer | null;

const SQLITE_MAGIC = "SQLite format 3\u0000";

/**
 * Opens an experiment database strictly read-only. Everything that can be
 * wrong with the file itself is checked first, so that a typo never creates
 * a file and a non-database gets a message about what it is.
 */
/**
 * Opens the database read-only (never a write, never created). With
 * `immutable`, SQLite is told the file cannot change (no locks, no -shm, and
 * the -wal's commits ignored): for read-only media only, unsafe while an
 * experiment writes.
 */
export function openReadOnlySqlite(path: string, options: { immutable?: boolean } = {}): Database.Database {
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      throw new PanicDriftError(
        "DB_IS_DIRECTORY",
        `${path} is a directory, not a database file: pass the .sqlite/.db file inside it with --db`,
      );
    }
    // SQLite reads a database at offsets, again and again: a FIFO (which would block), a device or a socket cannot be one.
    const kind = notRegularFile(stats);
    if (kind !== undefined) {
      throw new PanicDriftError("DB_NOT_FILE", `database ${path} is ${kind}, not a file: point --db at the experiment's .sqlite file (copy it to a file first if it comes through a pipe)`);
    }
    size = stats.size;
  } catch (error) {
    if (error instanceof PanicDriftError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      // A -wal without its database: the database was moved or deleted, and the -wal alone is not one.
      const strayWal = existsSync(`${path}-wal`) ? ` (only its ${path}-wal is there: the database itself was moved or deleted)` : "";
      throw new PanicDriftError("DB_NOT_FOUND", `database not found: ${path}${strayWal}: check the --db path (or DATABASE_PATH)`);
    }
    throw new PanicDriftError("DB_UNREADABLE", `cannot read database ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (size === 0) {
    throw new PanicDriftError("DB_EMPTY", `database ${path} is an empty file (0 bytes): point --db at the experiment's database`);
  }
  const header = readHeader(path);
  if (header !== SQLITE_MAGIC) {
    throw new PanicDriftError("DB_NOT_SQLITE", `${path} is not a SQLite database (no SQLite header): point --db at the experiment's .sqlite file`);
  }
  if (options.immutable === true) return openImmutable(path);
  let db: Database.Database | undefined;
  try {
    acceptUris();
    db = openWithReadAhead(path) ?? new Database(resolvePath(path), { readonly: true, fileMustExist: true });
    // A running experiment may hold a write lock for a moment; wait rather than fail.
    db.pragma("busy_timeout = 10000");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (error) {
    db?.close();
    if (needsSharedMemoryFile(error)) {
      if (!existsSync(`${path}-wal`)) return openImmutable(path);
      throw new PanicDriftError(
        "DB_UNREADABLE",
        `cannot read ${path}: it has a -wal, and SQLite must create ${path}-shm beside it to read that, but ${dirname(resolvePath(path))} is not writable: copy the database with its -wal somewhere writable, or pass --immutable for read-only media (unsafe while an experiment writes: the -wal's commits are ignored)`,
        { cause: error },
      );
    }
    throw sqliteFailure(error, path, "open");
  }
}

/**
 * A WAL database needs a -shm file beside it. In a directory we cannot write
 * SQLite cannot create one; if there is no -wal either, nobody is writing the
 * database, and it can be read as immutable (no -shm, no locks).
 */
function needsSharedMemoryFile(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  return code === "SQLITE_READONLY_DIRECTORY" || code === "SQLITE_CANTOPEN";
}

function openImmutable(path: string): Database.Database {
  acceptUris();
  const uri = `${fileUri(path)}?immutable=1`;
  try {
    const db = new Database(uri, { readonly: true, fileMustExist: true });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (error) {
    throw sqliteFailure(error, path, "open");
  }
}

let urisRefused = false;

/**
 * The database opened with the read-ahead VFS (see nativeLibrary.ts), or
 * undefined without it. Selecting a VFS takes a `file:` URI, which
 * better-sqlite3 accepts only if SQLITE_USE_URI was set before its first
 * connection in the process: a program that opened one of its own before
 * calling panic-drift gets SQLITE_CANTOPEN here (the URI taken as a file
 * name; read-only, so nothing is created), and then the default VFS.
 */
function openWithReadAhead(path: string): Database.Database | undefined {
  const vfs = urisRefused ? undefined : readAheadVfs();
  if (vfs === undefined) return undefined;
  try {
    return new Database(`${fileUri(path)}?vfs=${vfs}`, { readonly: true, fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code !== "SQLITE_CANTOPEN") throw error;
    // The same open without the URI: if that works, URIs were what failed, and are not tried again.
    const db = new Database(resolvePath(path), { readonly: true, fileMustExist: true });
    urisRefused = true;
    return db;
  }
}

/** The file: URI of a path (without a query). */
function fileUri(path: string): string {
  acceptUris();
  return `file:${encodeURI(resolvePath(path)).replaceAll("?", "%3f").replaceAll("#", "%23")}`;
}

function readHeader(path: string): string {
  let fd: number | undefined;
  try {
    fd = openRegularFileSync(path);
    const buffer = Buffer.alloc(16);
    const read = readSync(fd, buffer, 0, 16, 0);
    return buffer.subarray(0, read).toString("latin1");
  } catch (error) {
    throw new PanicDriftError("DB_UNREADABLE", `cannot read database ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Turns a better-sqlite3 error into one line that says what to do. */
export function sqliteFailure(error: unknown, path: string, doing: string): PanicDriftError {
  if (error instanceof PanicDriftError) return error;
  const code = (error as { code?: string }).code ?? "";
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB") {
    return new PanicDriftError("DB_NOT_SQLITE", `${path} is not a SQLite database (${message}): point --db at the experiment's .sqlite file`, { cause: error });
  }
  if (code.startsWith("SQLITE_CORRUPT")) {
    return new PanicDriftError("DB_UNREADABLE", `database ${path} is corrupt (${code}: ${message}) while trying to ${doing}: restore it from a backup or check it with 'sqlite3 ${path} "PRAGMA integrity_check"'`, { cause: error });
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new PanicDriftError("DB_UNREADABLE", `database ${path} is locked by another process (${code}) while trying to ${doing}: retry when the writer is done`, { cause: error });
  }
  return new PanicDriftError("DB_UNREADABLE", `cannot ${doing} database ${path}: ${message}${code ? ` (${code})` : ""}`, { cause: error });
}

/** better-sqlite3 errors carry an SQLITE_* code; anything else is not about the database. */
export function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_");
}

/**
 * better-sqlite3 reads SQLITE_USE_URI once, when its addon loads (at the
 * first connection), to accept `file:` URIs, needed for ?immutable=1. Set
 * here, before any connection of ours, rather than as a side effect of
 * importing this module. Plain paths are always passed absolute, so a file
 * whose name starts with "file:" is never mistaken for a URI.
 */
function acceptUris(): void {
  process.env.SQLITE_USE_URI ??= "1";
}
