import type Database from "better-sqlite3";
import type { SqliteValue } from "./sqliteFile.js";
import type { RunRecord } from "../../frame/runTable.js";
import { runRecordDigest, type SnapshotChanges, type SnapshotState } from "../snapshotState.js";

/** Where a SQLite layout keeps what the snapshot state reads. */
export interface SnapshotTables {
  readonly invocation: string;
  readonly embedding: string;
  /** The condition that keeps text invocations (`i` is the invocation). */
  readonly textCondition: string;
  /** With --model: the clause and parameter that keep only those models' rows (or empty). */
  readonly modelClause: string;
  readonly modelParameter: readonly string[];
}

export interface SnapshotRun {
  readonly storedId: unknown;
  readonly record: RunRecord;
}

/**
 * The snapshot state of a pinned SQLite database. Every count and sum is
 * read from an index (covering scans: ~20 ms for 200k rows), so no vector
 * or image page is touched.
 */
export function sqliteSnapshotState(db: Database.Database, tables: SnapshotTables, runs: readonly SnapshotRun[]): SnapshotState {
  return snapshotAndKeptRows(db, tables, runs, 0).state;
}

/** The state, and (in the same index scan) how many embedding rows have a rowid up to `since`. */
function snapshotAndKeptRows(db: Database.Database, tables: SnapshotTables, runs: readonly SnapshotRun[], since: number): { state: SnapshotState; keptRows: number } {
  const invocations = new Map<unknown, [number, number]>();
  const perRun = db
    .prepare(`SELECT run_id, count(*), sum(rowid) FROM ${tables.invocation} INDEXED BY ${indexLeadingWith(db, tables.invocation, "run_id")} GROUP BY run_id`)
    .raw(true);
  for (const [runId, count, sum] of perRun.iterate() as IterableIterator<[unknown, number, number]>) invocations.set(runId, [count, sum]);
  const maxRowid = (db.prepare(`SELECT max(rowid) FROM ${tables.embedding}`).pluck().get() as number | null) ?? 0;
  const maxId = db.prepare(`SELECT id FROM ${tables.embedding} WHERE rowid = ?`).pluck().get(maxRowid) as SqliteValue | undefined;
  const [count, keptRows] = db
    .prepare(`SELECT count(*), count(*) FILTER (WHERE rowid <= ?) FROM ${tables.embedding} INDEXED BY ${indexLeadingWith(db, tables.embedding, "invocation_id")}`)
    .raw(true)
    .get(since) as [number, number];
  const state: SnapshotState = {
    runs: runs.map(({ storedId, record }) => {
      const [n, sum] = invocations.get(storedId) ?? [0, 0];
      return [record.run_id, n, sum, runRecordDigest(record)];
    }),
    embeddings: { maxRowid, maxId: maxId === undefined ? null : String(maxId), count },
  };
  return { state, keptRows };
}

/** What changed in the pinned database since `previous`, reading only the new rows and the indexes. */
export function sqliteSnapshotChanges(
  db: Database.Database,
  tables: SnapshotTables,
  runs: readonly SnapshotRun[],
  previous: SnapshotState,
): SnapshotChanges {
  const since = previous.embeddings.maxRowid;
  const { state, keptRows } = snapshotAndKeptRows(db, tables, runs, since);
  const byStoredId = new Map(runs.map((run) => [run.storedId, run.record.run_id]));
  // Only the rows added since are read (their pages are the change itself), each joined to its invocation.
  const added = db
    .prepare(`SELECT DISTINCT i.run_id FROM ${tables.embedding} AS e CROSS JOIN ${tables.invocation} AS i ON i.id = e.invocation_id WHERE e.rowid > ?`)
    .pluck();
  const runsWithNewRows = new Set<string>();
  for (const storedId of added.iterate(since)) {
    const runId = byStoredId.get(storedId);
    if (runId !== undefined) runsWithNewRows.add(runId);
  }
  const lastId = db.prepare(`SELECT id FROM ${tables.embedding} WHERE rowid = ?`).pluck().get(since) as SqliteValue | undefined;
  const storedIdOf = new Map(runs.map((run) => [run.record.run_id, run.storedId]));
  const ofRun = db
    .prepare(
      `SELECT count(*) FROM ${tables.invocation} AS i CROSS JOIN ${tables.embedding} AS e ON e.invocation_id = i.id
       WHERE i.run_id = ? AND ${tables.textCondition} AND e.rowid <= ?${tables.modelClause}`,
    )
    .pluck();
  return {
    state,
    runsWithNewRows,
    keptRows,
    sameLastRow: (lastId === undefined ? null : String(lastId)) === previous.embeddings.maxId,
    keptRowsOfRun: (runId) => ofRun.get(storedIdOf.get(runId), since, ...tables.modelParameter) as number,
  };
}

/** The name of a full index of `table` whose first column is `column` (the source checked there is one). */
function indexLeadingWith(db: Database.Database, table: string, column: string): string {
  const indexes = db.prepare("SELECT name FROM pragma_index_list(?) WHERE partial = 0").pluck().all(table) as string[];
  const first = db.prepare("SELECT name FROM pragma_index_info(?) WHERE seqno = 0").pluck();
  const name = indexes.find((index) => first.get(index) === column);
  if (name === undefined) throw new Error(`${table} has no index on ${column}`);
  return `"${name.replaceAll('"', '""')}"`;
}
