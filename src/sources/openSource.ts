import type { DriftSource } from "./driftSource.js";
import type { SourceFilters } from "./sourceFilters.js";
import { isDirectory, ParquetExportSource } from "./export/parquetExport.js";
import { openReadOnlySqlite } from "./sqlite/sqliteFile.js";
import { detectLayout } from "./sqlite/sqliteLayouts.js";
import { tableNames } from "./sqlite/sqliteSchema.js";
import { SqliteDriftSource } from "./sqlite/sqliteSource.js";

export interface OpenSourceOptions {
  /** SQLite: open as immutable (read-only media; see openReadOnlySqlite). */
  readonly immutable?: boolean;
  readonly filters?: SourceFilters;
}

/**
 * Opens `path` as whichever panic-tda input it holds. Every reader (the
 * main thread and each reader thread, see src/threads/scanWorker.ts) opens
 * the input through here, so all of them detect the same kind.
 *
 * Kinds of input are told apart here, one branch each, before anything is
 * read: a directory is a parquet export (parquetExport.ts), anything else a
 * panic-tda SQLite database of either generation below.
 */
export function openSource(path: string, options: OpenSourceOptions = {}): DriftSource {
  // A directory: upstream's parquet export (mix experiment.export_data), read through DuckDB.
  if (isDirectory(path)) return new ParquetExportSource(path, options.filters);
  return openSqliteSource(path, options);
}

/**
 * A panic-tda SQLite database, its generation detected from its tables;
 * one that matches neither, or both, is an error naming the tables found.
 */
export function openSqliteSource(path: string, options: OpenSourceOptions = {}): DriftSource {
  const db = openReadOnlySqlite(path, options);
  try {
    const layout = detectLayout(tableNames(db, path), path);
    return new SqliteDriftSource(db, path, layout, options.filters);
  } catch (error) {
    db.close();
    throw error;
  }
}
