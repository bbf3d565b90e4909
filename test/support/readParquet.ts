import { DuckDBInstance } from "@duckdb/node-api";

/** Reads a parquet file (or runs any query) through DuckDB, rows as JSON-friendly objects. */
export async function query(sql: string, params: string[] = []): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The output frame in file order, timestamps as text with microseconds. */
export function readFrame(path: string): Promise<Record<string, unknown>[]> {
  return query(
    `SELECT * REPLACE (strftime(started_at, '%Y-%m-%d %H:%M:%S.%f') AS started_at,
                       strftime(completed_at, '%Y-%m-%d %H:%M:%S.%f') AS completed_at)
     FROM read_parquet($1)`,
    [path],
  );
}
