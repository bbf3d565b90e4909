/**
 * Converts a first-generation panic-tda database (as makePanicDb writes it)
 * into the directory of parquet files that upstream's `mix
 * experiment.export_data` writes for the same experiments
 * (lib/panic_tda/data_export.ex): one zstd file per table, ids hyphenated,
 * `invocations.type` lower-case, `network`/`networks`/`prompts`/
 * `embedding_models` as JSON text (Jason's compact encoding), timestamps as
 * ISO 8601 strings (`DateTime.to_iso8601` of a UTC microsecond datetime:
 * `2025-03-03T09:00:00.123456Z`), `sequence_number` int64, `vector` as
 * list<float32>. With `embedPrompts`, upstream's `--embed-prompts` rows: per
 * run an invocation `'prompt-' || run_id` (sequence_number -1, type 'text',
 * model NULL, output_text = initial_prompt) and per (run, text embedding
 * model) an embedding `'prompt-' || run_id || '-' || model` holding the
 * prompt's vector.
 *
 * Independent of the product's readers: it reads the database with
 * better-sqlite3 and writes parquet with DuckDB (vectors copied into DuckDB's
 * list vectors as bytes, so big exports are quick to make). Only the
 * embedders' reference vectors come from the product
 * (src/reference/builtinEmbedders.ts), as the brief of the export asks: the
 * export stores what upstream's embedders computed.
 *
 * The pieces live in ./panicExport/.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import Database from "better-sqlite3";
import { EXPORT_COLUMNS, type Cell, type TableName, type VectorCell } from "./panicExport/columns.js";
import { writeTable } from "./panicExport/duckdbTable.js";
import { embeddingRows } from "./panicExport/embeddingRows.js";
import { experimentRows, invocationRows, runRows, select } from "./panicExport/tableRows.js";
import type { PanicExportManifest, PanicExportOptions } from "./panicExport/types.js";
import { hyphenate } from "./panicExport/values.js";

export { EXPORT_COLUMNS, TABLES } from "./panicExport/columns.js";
export type { PanicExportManifest, PanicExportOptions } from "./panicExport/types.js";
export { isoTimestamp, syntheticPromptVector } from "./panicExport/values.js";

/** Tables upstream exports that panic-drift does not read: written with their columns and no rows. */
const EMPTY_TABLES = ["persistence_diagrams", "clustering_results", "embedding_clusters", "lyapunov_results"] as const;

export async function makePanicExport(dbPath: string, dir: string, options: PanicExportOptions = {}): Promise<PanicExportManifest> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const unrepresentable: string[] = [];
  const promptVectors = new Map<string, Map<string, VectorCell | null>>();
  const rows = {} as PanicExportManifest["rows"];
  if (existsSync(dir)) rmSync(dir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  const write = async (table: TableName, cells: Iterable<Cell[]>) => {
    rows[table] = await writeTable(connection, join(dir, `${table}.parquet`), table, EXPORT_COLUMNS[table], cells);
  };
  try {
    const selection = select(db, options.experiments);
    await write("experiments", experimentRows(selection));
    await write("runs", runRows(selection));
    const invocations = invocationRows(db, selection.runs, options.embedPrompts === true);
    await write("invocations", invocations.rows);
    const experimentModels = selection.experiments.map((e) => e[4]);
    await write("embeddings", embeddingRows({ db, options, experimentModels, runs: selection.runs, exported: invocations.exported, unrepresentable, promptVectors }));
    for (const table of EMPTY_TABLES) await write(table, []);
    const runIds = selection.runs.map((r) => hyphenate(r[0])!);
    return { dir, runIds, rows, unrepresentable, runsWithoutExperiment: selection.runsWithoutExperiment, promptVectors };
  } finally {
    connection.closeSync();
    instance.closeSync();
    db.close();
  }
}
