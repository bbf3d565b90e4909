import type Database from "better-sqlite3";
import { PanicDriftError } from "../../common/errors.js";
import { sqliteFailure } from "./sqliteFile.js";

/** Names of the tables in a database (views excluded). */
export function tableNames(db: Database.Database, path: string): Set<string> {
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    return new Set(rows);
  } catch (error) {
    throw sqliteFailure(error, path, "read the schema of");
  }
}

/** Fails with "missing column table.column" unless every column exists. */
export function requireColumns(
  db: Database.Database,
  path: string,
  table: string,
  columns: readonly string[],
): void {
  let present: Set<string>;
  try {
    const info = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];
    present = new Set(info);
  } catch (error) {
    throw sqliteFailure(error, path, "read the schema of");
  }
  for (const column of columns) {
    if (!present.has(column)) {
      throw new PanicDriftError(
        "DB_MISSING_COLUMN",
        `not a panic-tda database: missing column ${table}.${column} in ${path}: is it from a different panic-tda version?`,
      );
    }
  }
}

/**
 * True when `table` has a full (not partial) index whose first column is
 * `column`: what makes a lookup by that column a search, not a scan.
 */
export function hasIndexLeadingWith(db: Database.Database, path: string, table: string, column: string): boolean {
  try {
    const indexes = db.prepare("SELECT name, partial FROM pragma_index_list(?)").raw(true).all(table) as [string, number][];
    const first = db.prepare("SELECT name FROM pragma_index_info(?) WHERE seqno = 0").pluck();
    return indexes.some(([name, partial]) => partial === 0 && first.get(name) === column);
  } catch (error) {
    throw sqliteFailure(error, path, "read the schema of");
  }
}
