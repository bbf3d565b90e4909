import { writeFileSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { AtomicOutput } from "../sink/atomicOutput.js";
import { copyTable, tableText, writeAtomically } from "../sink/tableFile.js";

export const RESULT_FORMATS = ["table", "wide", "csv", "json", "parquet"] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/*
 * A result table leaves DuckDB as src/sink/tableFile.ts writes its tables
 * (CSV with a header, a JSON array, zstd parquet), but straight from the
 * query: its DOUBLE and TIMESTAMP columns keep their types.
 */

/**
 * Writes `table` to `output` in `format` (`table` and `wide` text comes ready made),
 * then puts it in place; a parquet file carries `metadata`.
 */
export async function writeResult(
  connection: DuckDBConnection,
  table: string,
  format: ResultFormat,
  output: AtomicOutput,
  text: () => string,
  metadata: Readonly<Record<string, string>>,
): Promise<void> {
  await writeAtomically(
    output,
    async () => {
      if (format === "table" || format === "wide") writeFileSync(output.temporary, text());
      else await copyTable(connection, table, format, output.temporary, metadata);
    },
    ": free space on that disk, or choose another --out",
  );
}

/** `table` as CSV or JSON text, for stdout. */
export function renderResult(connection: DuckDBConnection, table: string, format: "csv" | "json"): Promise<string> {
  return tableText(connection, table, format);
}
