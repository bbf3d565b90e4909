/**
 * The SQL text a SQLite source reads with, per layout: the same text for
 * every connection, so that every reader cuts the same units.
 */
import type { SourceFilters } from "../sourceFilters.js";
import { KIND_AS_IS, KIND_TIMESTAMP, KIND_UTF8, KIND_UUID } from "./rowPacking.js";
import { textCondition, type SqliteLayout } from "./sqliteLayouts.js";

const EMBEDDING_COLUMNS = "e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at";
const INVOCATION_COLUMNS = "i.sequence_number, i.model, i.output_text";
/** What panic_drift_rows_into converts in a slice's columns (see rowPacking.ts): the two ids, the two timestamps, and the text (output_text) kept as UTF-8. */
const SLICE_KINDS = `${KIND_UUID}${KIND_UUID}${KIND_AS_IS}${KIND_TIMESTAMP}${KIND_TIMESTAMP}${KIND_AS_IS}${KIND_AS_IS}${KIND_AS_IS}${KIND_UTF8}`;

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

/**
 * A slice of one run, packed (see rowPacking.ts): the next `?` invocations
 * of run `?` after invocation rowid `?`, in rowid order (a keyset: no
 * invocation is visited twice, however long the run), joined to their
 * embeddings as `run` does. Parameters: run id, rowid, invocations, then the
 * model clause's. Returns [invocations in the slice, their largest rowid,
 * the rows packed]; the rows are `run`'s, in another order within the run
 * (the output's order does not depend on it: see frame/outputOrder.ts).
 * `rows: true` gives the slice's rows one by one instead (for a slice too
 * large to pack); `into: true` packs them into the thread's output buffer,
 * ids, timestamps and text converted (panic_drift_rows_into, SLICE_KINDS),
 * and returns their length instead of a blob.
 */
export function runSliceQuery(layout: SqliteLayout, modelClause: string, options: { rows?: boolean; into?: boolean } = {}): string {
  const { invocation, embedding } = layout.tables;
  const slice = `WITH slice(r) AS MATERIALIZED (SELECT rowid FROM ${invocation} WHERE run_id = ? AND rowid > ? ORDER BY rowid LIMIT ?)`;
  const from = `FROM slice CROSS JOIN ${invocation} AS i ON i.rowid = slice.r CROSS JOIN ${embedding} AS e ON e.invocation_id = i.id WHERE ${textCondition(layout)}${modelClause}`;
  const columns = `${EMBEDDING_COLUMNS}, NULL, ${INVOCATION_COLUMNS}, e.vector`;
  if (options.rows === true) return `${slice} SELECT ${columns} ${from}`;
  const pack = options.into === true ? `panic_drift_rows_into('${SLICE_KINDS}', ${columns})` : `panic_drift_rows(${columns})`;
  return `${slice} SELECT (SELECT count(*) FROM slice), (SELECT max(r) FROM slice), (SELECT ${pack} ${from})`;
}

/** The clause a query ends with under --model (empty without it); modelParameter binds its parameter. */
export function modelClause(filters: SourceFilters): string {
  return (filters.models ?? []).length > 0 ? MODEL_FILTER : "";
}

export function modelParameter(filters: SourceFilters): string[] {
  const models = filters.models ?? [];
  return models.length > 0 ? [JSON.stringify(models)] : [];
}
