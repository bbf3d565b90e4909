/**
 * The SQL text a SQLite source reads with, per layout: the same text for
 * every connection, so that every reader cuts the same units.
 */
import type { SourceFilters } from "../sourceFilters.js";
import { textCondition, type SqliteLayout } from "./sqliteLayouts.js";

const EMBEDDING_COLUMNS = "e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at";
const INVOCATION_COLUMNS = "i.sequence_number, i.model, i.output_text";

/** With --model: only these embedding models' rows come back (no vector of another model is read out). */
const MODEL_FILTER = ` AND e.embedding_model IN (SELECT value FROM json_each(?))`;

export interface LayoutQueries {
  readonly run: string;
  readonly range: string;
  readonly runs: string;
  readonly pairs: string;
  readonly span: string;
}

/** The queries for one layout (the same text for every connection, so every reader cuts the same units). */
export function layoutQueries(layout: SqliteLayout): LayoutQueries {
  const { run, invocation, embedding } = layout.tables;
  const isText = textCondition(layout);
  return {
    /*
     * The rows of one run: its text invocations through the run_id index,
     * each joined to its embeddings through the invocation_id index (CROSS
     * JOIN keeps that loop order). Only the needed columns are named, so
     * SQLite never reads the image blobs (their overflow pages stay on
     * disk; see textPrecondition for the second generation). Reading run by
     * run, in the output's run order, is what lets the sink stream the frame
     * out without sorting it; it costs the same as a scan in storage order
     * (both visit each embedding page once; measured on the 200k-row bench
     * database).
     */
    run: `
  SELECT ${EMBEDDING_COLUMNS}, NULL, ${INVOCATION_COLUMNS}, e.vector
  FROM ${invocation} AS i
  CROSS JOIN ${embedding} AS e ON e.invocation_id = i.id
  WHERE i.run_id = ? AND ${isText}`,
    /*
     * Without those two indexes a per-run query would scan whole tables:
     * then the embedding table is read in storage order, a rowid range at a
     * time, each row joined to its invocation through the primary-key
     * index, and the sink sorts.
     */
    range: `
  SELECT ${EMBEDDING_COLUMNS}, i.run_id, ${INVOCATION_COLUMNS}, e.vector
  FROM ${embedding} AS e
  CROSS JOIN ${invocation} AS i ON i.id = e.invocation_id
  WHERE ${isText} AND e.rowid BETWEEN ? AND ?`,
    runs: `SELECT id, initial_prompt, network, experiment_id FROM ${run}`,
    // Every text embedding's run and model, in storage order; the vector only tested for NULL
    // (from the record header: the blob is not loaded). Counted in JavaScript: a GROUP BY
    // would sort every row first.
    pairs: `
  SELECT i.run_id, e.embedding_model, e.vector IS NOT NULL
  FROM ${embedding} AS e
  CROSS JOIN ${invocation} AS i ON i.id = e.invocation_id
  WHERE ${isText}`,
    // Two lookups at the ends of the table (min and max in one SELECT would scan an index).
    span: `SELECT (SELECT min(rowid) FROM ${embedding}), (SELECT max(rowid) FROM ${embedding})`,
  };
}

/** The run query's ten result columns, named for packedRows. */
const RUN_COLUMN_NAMES = Array.from({ length: 10 }, (_, i) => `c${i}`).join(", ");

/**
 * A slice of a run query's rows (`LIMIT ? OFFSET ?` after its parameters)
 * packed into one blob (see rowPacking.ts): the same rows, in the same order
 * (the same loop). Rows skipped by the offset cost an index step each: the
 * embedding row itself is only read for the columns of a row kept.
 */
export function packedRows(runQuery: string): string {
  return `WITH r(${RUN_COLUMN_NAMES}) AS (${runQuery} LIMIT ? OFFSET ?) SELECT panic_drift_rows(${RUN_COLUMN_NAMES}) FROM r`;
}

/** The clause a query ends with under --model (empty without it); modelParameter binds its parameter. */
export function modelClause(filters: SourceFilters): string {
  return (filters.models ?? []).length > 0 ? MODEL_FILTER : "";
}

export function modelParameter(filters: SourceFilters): string[] {
  const models = filters.models ?? [];
  return models.length > 0 ? [JSON.stringify(models)] : [];
}
