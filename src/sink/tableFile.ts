import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { PanicDriftError } from "../common/errors.js";
import { AtomicOutput } from "./atomicOutput.js";
import type { OutputPolicy } from "./outputGuard.js";
import { kindMetadata } from "./outputKind.js";
import { firstLine, sqlString } from "../common/text.js";

export const TABLE_FORMATS = ["csv", "json", "parquet"] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export interface TableColumn {
  readonly name: string;
  readonly type: "VARCHAR" | "BIGINT" | "DOUBLE[]";
}

export type TableCell = string | number | null | readonly number[];

/**
 * A small table (a few thousand rows at most: prompt pairs, reference
 * vectors) written by DuckDB as CSV (header, RFC 4180 quoting), a JSON array
 * of objects, or zstd parquet (marked with its kind), atomically.
 */
export async function writeTableFile(path: string, format: TableFormat, columns: readonly TableColumn[], rows: readonly TableCell[][], policy: OutputPolicy): Promise<void> {
  const output = AtomicOutput.begin(path, policy);
  await writeAtomically(output, () => withTable(columns, rows, (connection) => copyTable(connection, "cells", format, output.temporary, kindMetadata(policy.kind))));
}

/** The same table as CSV or JSON text (for stdout). */
export async function renderTable(format: Exclude<TableFormat, "parquet">, columns: readonly TableColumn[], rows: readonly TableCell[][]): Promise<string> {
  let text = "";
  await withTable(columns, rows, async (connection) => {
    text = await tableText(connection, "cells", format);
  });
  return text;
}

/**
 * COPY of a table (or a parenthesised query) to `path` as CSV with a header,
 * a JSON array of objects, or zstd parquet with `metadata` as its key-value
 * metadata.
 */
export async function copyTable(connection: DuckDBConnection, table: string, format: TableFormat, path: string, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
  const kv = Object.entries(metadata).map(([key, value]) => `${sqlString(key)}: ${sqlString(value)}`);
  const options = format === "parquet" && kv.length > 0 ? `, KV_METADATA {${kv.join(", ")}}` : "";
  // Our own temporary name already (see AtomicOutput): no temporary file of DuckDB's beside it.
  await connection.run(`COPY ${table} TO ${sqlString(path)} (${formatOptions(format)}, USE_TMP_FILE false${options})`);
}

/** A table (or a parenthesised query) as CSV or JSON text. */
export async function tableText(connection: DuckDBConnection, table: string, format: Exclude<TableFormat, "parquet">): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "panic-drift-table-"));
  try {
    const file = join(dir, `table.${format}`);
    await copyTable(connection, table, format, file);
    return readFileSync(file, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Fills `output`'s temporary file with `write`, then puts it in place; on
 * failure removes it (an existing file stays) and reports what went wrong.
 */
export async function writeAtomically(output: AtomicOutput, write: () => Promise<void> | void, advice = ""): Promise<void> {
  try {
    await write();
    output.commit();
  } catch (error) {
    output.abort();
    if (error instanceof PanicDriftError) throw error;
    throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${output.target}: ${firstLine(error)}${advice}`, { cause: error });
  }
}

function formatOptions(format: TableFormat): string {
  switch (format) {
    case "csv":
      return "FORMAT csv, HEADER true";
    case "json":
      return "FORMAT json, ARRAY true";
    case "parquet":
      return "FORMAT parquet, COMPRESSION zstd";
  }
}

async function withTable(columns: readonly TableColumn[], rows: readonly TableCell[][], body: (connection: DuckDBConnection) => Promise<void>): Promise<void> {
  // Loaded on use: a library importing panic-drift does not pay for DuckDB until it needs it.
  const { DuckDBInstance: Instance, LIST, DOUBLE } = (await import("../common/duckdb.js")).duckdbApi;
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  try {
    instance = await Instance.create(":memory:", { threads: "1", autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
    connection = await instance.connect();
    await connection.run(`CREATE TABLE cells (${columns.map((c) => `"${c.name}" ${c.type}`).join(", ")})`);
    const appender = await connection.createAppender("cells");
    const listType = LIST(DOUBLE);
    for (const row of rows) {
      columns.forEach((column, i) => {
        const value = row[i];
        if (value === null || value === undefined) appender.appendNull();
        else if (column.type === "VARCHAR") appender.appendVarchar(String(value));
        else if (column.type === "BIGINT") appender.appendBigInt(BigInt(value as number));
        else appender.appendList([...(value as readonly number[])], listType);
      });
      appender.endRow();
    }
    appender.closeSync();
    await body(connection);
  } finally {
    connection?.closeSync();
    instance?.closeSync();
  }
}


