import { PanicDriftError } from "../errors.js";
import type { DriftSource, SourceFilters } from "./driftSource.js";
import { isPythonEraSchema, missingPythonEraTable, PythonEraSqliteSource } from "./pythonEraSqlite.js";
import { openReadOnlySqlite } from "./sqliteFile.js";
import { tableNames } from "./sqliteSchema.js";

/**
 * Opens `path` as whichever panic-tda layout it holds, detected from its
 * tables. A database that matches none is an error naming what it has.
 */
export function openSource(path: string, options: { immutable?: boolean; filters?: SourceFilters } = {}): DriftSource {
  const db = openReadOnlySqlite(path, options);
  try {
    const tables = tableNames(db, path);
    if (isPythonEraSchema(tables)) return new PythonEraSqliteSource(db, path, options.filters);
    const missing = missingPythonEraTable(tables) ?? "run";
    const found = tables.size === 0 ? "no tables" : `tables found: ${[...tables].sort().join(", ")}`;
    throw new PanicDriftError(
      "DB_NOT_PANIC_TDA",
      `not a panic-tda database: missing table ${missing} in ${path} (${found}): point --db at a panic-tda experiment database`,
    );
  } catch (error) {
    db.close();
    throw error;
  }
}
