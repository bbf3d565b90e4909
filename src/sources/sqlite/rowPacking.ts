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
import { LIBRARY, libraryUsable, type PackedOutput } from "./nativeLibrary.js";
import type { Utf8Slice } from "../../frame/sourceBatch.js";
import { writeUuid } from "../../frame/uuidBytes.js";
import { parseNaiveTimestampMicros } from "../naiveTimestamp.js";
import type { SqliteValue } from "./sqliteFile.js";

const PACK_VERSION = 1;

const TAG_NULL = 0;
const TAG_INTEGER = 1;
const TAG_FLOAT = 2;
const TAG_TEXT = 3;
const TAG_BLOB = 4;
/** panic_drift_rows_into's converted columns (native/column_kinds.c). */
const TAG_UUID = 5;
const TAG_MICROS = 6;
const TAG_UTF8 = 7;

/**
 * A row as unpackRows gives it: better-sqlite3's values, except that a
 * column panic_drift_rows_into converted is a number (a timestamp, in
 * microseconds), a Uint32Array (an id, as frame/uuidBytes.ts's four
 * words) or a Utf8Slice (well-formed text, as its UTF-8 bytes); the same
 * array or slice object for every row of that column, valid until the next.
 */
export type PackedValue = SqliteValue | Uint32Array | Utf8Slice;

/** Whether a packed value is text as UTF-8 bytes (KIND_UTF8), rather than one of better-sqlite3's values or an id's words. */
export function isUtf8Slice(value: PackedValue): value is Utf8Slice {
  return typeof value === "object" && value !== null && !ArrayBuffer.isView(value);
}

/** A packed value as text: what String() of better-sqlite3's value gives (UTF-8 bytes decoded). */
export function asText(value: PackedValue | undefined): string {
  return value !== undefined && isUtf8Slice(value) ? Buffer.from(value.source.buffer, value.source.byteOffset + value.start, value.end - value.start).toString() : String(value);
}

/**
 * The kinds panic_drift_rows_into is told, one character per column: 'u' an
 * id (32 lowercase hex digits or 8-4-4-4-12 become bytes), 't' a timestamp
 * (the canonical spellings become microseconds; any other value that is not
 * text becomes the empty text), 'b' text (well-formed UTF-8 comes as its
 * bytes, a Utf8Slice, not decoded), '.' as it is.
 */
export const KIND_UUID = "u";
export const KIND_TIMESTAMP = "t";
export const KIND_UTF8 = "b";
export const KIND_AS_IS = ".";

/**
 * Loads the row-packing extension into `db`; false when it is not built or
 * is turned off (then the caller reads row by row).
 */
export function loadRowPacking(db: Database.Database): boolean {
  if (!libraryUsable()) return false;
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

/**
 * Whether panic_drift_rows_into writes probe rows into this thread's output
 * buffer as unpackRows reads them, converting ids and timestamps as
 * frame/uuidBytes.ts and sources/naiveTimestamp.ts do.
 */
export function packsIntoOutput(db: Database.Database, output: PackedOutput): boolean {
  const id = "0123456789abcdef0123456789abcdef";
  const at = "2024-02-29 23:59:58.123456";
  try {
    const text = "naïve 🙂";
    const length = db.prepare("SELECT panic_drift_rows_into('ut.b', ?, ?, -2, ?)").pluck().get(id, at, text);
    if (typeof length !== "number") return false;
    const rows: unknown[][] = [];
    unpackRows(output.view(length), (row) => {
      rows.push(row.map((value) => (value instanceof Uint32Array ? [...value] : isUtf8Slice(value) ? asText(value) : value)));
    });
    const words = new Uint32Array(4);
    writeUuid(id, words, 0);
    const [uuid, micros, number, decoded] = rows[0] ?? [];
    return rows.length === 1 && JSON.stringify(uuid) === JSON.stringify([...words]) && micros === parseNaiveTimestampMicros(at) && number === -2 && decoded === text;
  } catch {
    return false;
  }
}

/** Whether the loaded library packs a probe row into the layout unpackRows reads. */
function packsAsExpected(db: Database.Database): boolean {
  const probe = db.prepare("SELECT panic_drift_rows(-2, 'x')").pluck().get() as Buffer | null;
  if (probe === null || probe[0] !== PACK_VERSION) return false;
  const rows: PackedValue[][] = [];
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
export function unpackRows(packed: Buffer, onRow: (row: PackedValue[]) => void): number {
  if (packed[0] !== PACK_VERSION) throw new Error(`panic_drift_rows: packed rows of version ${packed[0]}, expected ${PACK_VERSION} (rebuild with npm rebuild)`);
  const columns = packed[1]!;
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const row: PackedValue[] = new Array<PackedValue>(columns).fill(null);
  const uuids: (Uint32Array | undefined)[] = [];
  const texts: (Utf8Slice | undefined)[] = [];
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
        case TAG_UUID: {
          const words = (uuids[c] ??= new Uint32Array(4));
          words[0] = view.getUint32(at, true);
          words[1] = view.getUint32(at + 4, true);
          words[2] = view.getUint32(at + 8, true);
          words[3] = view.getUint32(at + 12, true);
          row[c] = words;
          at += 16;
          break;
        }
        case TAG_UTF8: {
          const size = view.getUint32(at, true);
          at += 4;
          const slice = (texts[c] ??= { source: packed, start: 0, end: 0 });
          slice.source = packed;
          slice.start = at;
          slice.end = at + size;
          row[c] = slice;
          at += size;
          break;
        }
        case TAG_MICROS:
          // Exact: the years converted (to 2249) are below 2^53 µs.
          row[c] = view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true);
          at += 8;
          break;
        default:
          throw new Error(`panic_drift_rows: unknown tag ${tag} at byte ${at - 1}`);
      }
    }
    onRow(row);
    rows++;
  }
  return rows;
}
