/**
 * Rows read as one blob per group instead of one value per column and row.
 *
 * better-sqlite3 makes a JavaScript value of every column of every row, and
 * a Node buffer (a malloc, and external memory the garbage collector must
 * account) of every vector: most of the CPU a compute spends outside SQLite
 * itself. The SQLite extension in native/panic_drift_sqlite.c, built at
 * install (native/build.mjs, binding.gyp), adds the aggregate `panic_drift_rows(...)`, which
 * packs a group's rows into one blob; `unpackRows` reads it back into the
 * values better-sqlite3 would have returned (same strings, same numbers,
 * a buffer for a blob), except that the last column's blobs are views into
 * the packed blob, valid until the next row.
 *
 * Without the built library (no compiler at install, `--ignore-scripts`,
 * another platform) or with PANIC_DRIFT_ROW_PACKING=0, readers read row by
 * row as before: the same output, more CPU. PANIC_DRIFT_PACK_LIMIT=<bytes>
 * (tests) lowers the size of a blob over which a slice is read row by row.
 */
import type Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SqliteValue } from "./sqliteFile.js";

/** Where node-gyp puts the library: build/Release at the package's root (this file is three folders below it, in src/ or dist/). */
const LIBRARY = fileURLToPath(new URL("../../../build/Release/panic_drift_sqlite.node", import.meta.url));
const PACK_VERSION = 1;

const TAG_NULL = 0;
const TAG_INTEGER = 1;
const TAG_FLOAT = 2;
const TAG_TEXT = 3;
const TAG_BLOB = 4;

let libraryPresent: boolean | undefined;

/**
 * Loads the row-packing extension into `db`; false when it is not built or
 * is turned off (then the caller reads row by row).
 */
export function loadRowPacking(db: Database.Database): boolean {
  if (process.env.PANIC_DRIFT_ROW_PACKING === "0") return false;
  libraryPresent ??= existsSync(LIBRARY);
  if (!libraryPresent) return false;
  try {
    // SQLite finds the entry point from the file name: sqlite3_panicdriftsqlite_init.
    db.loadExtension(LIBRARY);
    // A library built from other sources (a checkout updated without `npm ci`) is not used.
    if (!packsAsExpected(db)) return false;
    // For tests: a lower limit, so that the row-by-row reading of a slice too large to pack is exercised.
    const limit = process.env.PANIC_DRIFT_PACK_LIMIT;
    if (limit !== undefined) db.prepare("SELECT panic_drift_rows_limit(?)").get(Number(limit));
    return true;
  } catch {
    // Built for another platform, or a SQLite without extension loading: read row by row.
    return false;
  }
}

/** Whether the loaded library packs a probe row into the layout unpackRows reads. */
function packsAsExpected(db: Database.Database): boolean {
  const probe = db.prepare("SELECT panic_drift_rows(-2, 'x')").pluck().get() as Buffer | null;
  if (probe === null || probe[0] !== PACK_VERSION) return false;
  const rows: SqliteValue[][] = [];
  unpackRows(probe, (row) => rows.push([...row]));
  return rows.length === 1 && rows[0]![0] === -2 && rows[0]![1] === "x";
}

/** The packed blob a group too large to pack (over 256 MB) yields instead. */
export function isTooLarge(packed: Buffer): boolean {
  return packed.byteLength === 1;
}

/**
 * Calls `onRow` with each row of a packed blob, as better-sqlite3's raw mode
 * would give it, and returns how many there were. The row array is reused
 * from row to row, and a blob in the last column is a view into `packed`:
 * `onRow` must copy what it keeps.
 */
export function unpackRows(packed: Buffer, onRow: (row: SqliteValue[]) => void): number {
  if (packed[0] !== PACK_VERSION) throw new Error(`panic_drift_rows: packed rows of version ${packed[0]}, expected ${PACK_VERSION} (rebuild with npm rebuild)`);
  const columns = packed[1]!;
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const row: SqliteValue[] = new Array<SqliteValue>(columns).fill(null);
  const last = columns - 1;
  const end = packed.byteLength;
  let at = 2;
  let rows = 0;
  while (at < end) {
    for (let c = 0; c < columns; c++) {
      const tag = packed[at]!;
      at += 1;
      switch (tag) {
        case TAG_NULL:
          row[c] = null;
          break;
        case TAG_INTEGER:
          // As better-sqlite3 converts an int64 to a number: exact up to 2^53, rounded to nearest beyond.
          row[c] = view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true);
          at += 8;
          break;
        case TAG_FLOAT:
          row[c] = view.getFloat64(at, true);
          at += 8;
          break;
        case TAG_TEXT: {
          const size = view.getUint32(at, true);
          at += 4;
          row[c] = packed.toString("utf8", at, at + size);
          at += size;
          break;
        }
        case TAG_BLOB: {
          const size = view.getUint32(at, true);
          at += 4;
          const bytes = packed.subarray(at, at + size);
          row[c] = c === last ? bytes : Buffer.from(bytes);
          at += size;
          break;
        }
        default:
          throw new Error(`panic_drift_rows: unknown tag ${tag} at byte ${at - 1}`);
      }
    }
    onRow(row);
    rows++;
  }
  return rows;
}
