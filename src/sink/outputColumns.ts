import type { DuckDBType } from "@duckdb/node-api";
import { duckdbApi } from "../common/duckdb.js";
import { OUTPUT_COLUMN_NAMES, type OutputColumn } from "../frame/frameColumns.js";

const { BIGINT, DOUBLE, TIMESTAMP, VARCHAR } = duckdbApi;

/**
 * The cached frame's columns, in upstream's order, with their parquet/DuckDB
 * types. Ids stay VARCHAR: DuckDB's UUID type reaches older readers as bytes.
 */
export const OUTPUT_COLUMNS = OUTPUT_COLUMN_NAMES;
export type { OutputColumn };

export const OUTPUT_TYPES: Readonly<Record<OutputColumn, DuckDBType>> = {
  id: VARCHAR,
  invocation_id: VARCHAR,
  embedding_model: VARCHAR,
  started_at: TIMESTAMP,
  completed_at: TIMESTAMP,
  run_id: VARCHAR,
  sequence_number: BIGINT,
  text_model: VARCHAR,
  text: VARCHAR,
  initial_prompt: VARCHAR,
  network: VARCHAR,
  experiment_id: VARCHAR,
  semantic_drift: DOUBLE,
};
