import type Database from "better-sqlite3";
import type { RecordBatch } from "apache-arrow";
import { BatchesByDimension } from "../frame/batchesByDimension.js";
import type { SourceRow } from "../frame/sourceBatch.js";
import { RunTable } from "../frame/runTable.js";
import { VectorStatus } from "../frame/vectorStatus.js";
import type { DriftSource, RowidRange, ScanOptions, ScanProgress } from "./driftSource.js";
import { sqliteFingerprint, type InputFingerprint } from "./inputFingerprint.js";
import { networkPath } from "./networkPath.js";
import { parseNaiveTimestampMicros } from "./naiveTimestamp.js";
import { isSqliteError, sqliteFailure } from "./sqliteFile.js";
import { requireColumns } from "./sqliteSchema.js";
import { hyphenateUuid } from "../frame/uuidText.js";

/** Tables and the columns panic-drift reads from them (SQLModel era). */
export const PYTHON_ERA_TABLES = {
  run: ["id", "network", "initial_prompt", "experiment_id"],
  invocation: ["id", "run_id", "sequence_number", "model", "type", "output_text"],
  embedding: ["id", "invocation_id", "embedding_model", "started_at", "completed_at", "vector"],
} as const;

interface RunInfo {
  /** Index in the snapshot's RunTable. */
  readonly index: number;
  readonly initialPrompt: string;
  /** Reference-pair key per embedding model, filled as models are met. */
  readonly keys: Map<string, number>;
}

/*
 * One pass over the embedding table in storage order, each row joined to its
 * invocation through the primary-key index. Only the needed columns are
 * named, so SQLite never reads output_image_data (its overflow pages stay on
 * disk). Runs are few and read up front.
 */
const SCAN_SQL = `
  SELECT e.rowid, e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at,
         i.run_id, i.sequence_number, i.model, i.output_text, e.vector
  FROM embedding AS e
  CROSS JOIN invocation AS i ON i.id = e.invocation_id
  WHERE i.type = 'TEXT' AND e.rowid BETWEEN ? AND ?`;

// In rowid order, so that every connection on one snapshot numbers the runs alike.
const RUNS_SQL = `SELECT id, initial_prompt, network, experiment_id FROM run ORDER BY rowid`;

/** A first-generation (Python/SQLModel) panic-tda SQLite database. */
export class PythonEraSqliteSource implements DriftSource {
  readonly description = "first-generation (Python era) panic-tda SQLite database";
  readonly fingerprint: InputFingerprint;
  readonly warnings: string[] = [];
  private rowsDone = 0;
  private rowidFrom = 0;
  private rowidDone = 0;
  private rowidTotal = 0;
  private runs: Map<string, RunInfo> | undefined;
  private runTable = new RunTable();
  private span: RowidRange = { from: 1, to: 0 };

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    for (const [table, columns] of Object.entries(PYTHON_ERA_TABLES)) requireColumns(db, path, table, columns);
    // After opening (a reader may create the -wal), before the read snapshot starts.
    this.fingerprint = sqliteFingerprint(path);
  }

  progress(): ScanProgress {
    return { done: this.rowidDone - this.rowidFrom, total: this.rowidTotal, rows: this.rowsDone };
  }

  /**
   * Starts the read transaction every later read comes from, and reads what
   * is small (runs, the rowid span) inside it. Idempotent.
   */
  pin(): void {
    if (this.runs !== undefined) return;
    try {
      this.db.exec("BEGIN");
      // The snapshot starts with the first read.
      this.runs = this.readRuns();
      const span = this.db.prepare("SELECT min(rowid), max(rowid) FROM embedding").raw(true).get() as [number | null, number | null];
      this.span = { from: span[0] ?? 1, to: span[1] ?? 0 };
    } catch (error) {
      this.release();
      throw isSqliteError(error) ? sqliteFailure(error, this.path, "read") : error;
    }
  }

  /** Ends the read transaction (a read-only one: nothing to lose). */
  release(): void {
    this.runs = undefined;
    if (!this.db.inTransaction) return;
    try {
      this.db.exec("ROLLBACK");
    } catch {
      /* already failing, or harmless */
    }
  }

  /** The embedding rowids cut into `parts` ranges of about equal size, for parallel readers. */
  partitions(parts: number): RowidRange[] {
    this.pin();
    const { from, to } = this.span;
    if (to < from) return [{ from, to }];
    const size = Math.ceil((to - from + 1) / parts);
    const ranges: RowidRange[] = [];
    for (let lo = from; lo <= to; lo += size) ranges.push({ from: lo, to: Math.min(to, lo + size - 1) });
    return ranges;
  }

  *scan(options: ScanOptions, range?: RowidRange): Generator<RecordBatch, void, undefined> {
    const db = this.db;
    this.pin();
    const runs = this.runs!;
    const { from, to } = range ?? this.span;
    this.rowidFrom = from - 1;
    this.rowidDone = from - 1;
    this.rowidTotal = Math.max(0, to - from + 1);
    try {
      const router = new BatchesByDimension(options.batchRows, this.runTable, options.reuseVectors === true);
      const statement = db.prepare(SCAN_SQL).raw(true);
      const row: SourceRow = {
        id: "",
        invocation_id: "",
        embedding_model: "",
        started_at: null,
        completed_at: null,
        run_index: 0,
        sequence_number: 0,
        text_model: null,
        text: null,
      };
      let badTimestamps = 0;
      for (const raw of statement.iterate(from, to) as IterableIterator<unknown[]>) {
        const [rowid, id, invocationId, model, startedAt, completedAt, runId, sequence, textModel, text, vector] = raw;
        this.rowidDone = Number(rowid);
        const run = runs.get(runId as string);
        // Inner-join semantics (orphans dropped) and the prompt exclusions.
        if (run === undefined || options.excludePrompts.has(run.initialPrompt)) continue;
        const embeddingModel = String(model);
        let key = run.keys.get(embeddingModel);
        if (key === undefined) {
          key = options.pairs.keyFor(run.initialPrompt, embeddingModel);
          run.keys.set(embeddingModel, key);
        }
        // Ids stay raw: the batch stores UUIDs as bytes and hyphenates the rest.
        row.id = String(id);
        row.invocation_id = String(invocationId);
        row.embedding_model = embeddingModel;
        row.started_at = parseNaiveTimestampMicros(startedAt);
        row.completed_at = parseNaiveTimestampMicros(completedAt);
        if ((row.started_at === null && startedAt != null) || (row.completed_at === null && completedAt != null)) {
          badTimestamps++;
        }
        row.run_index = run.index;
        row.sequence_number = Number(sequence);
        row.text_model = textModel == null ? null : String(textModel);
        row.text = text == null ? null : String(text);
        const [status, blob] = classifyVector(vector);
        router.push(row, key, status, blob);
        this.rowsDone++;
        while (router.ready.length > 0) yield router.ready.shift()!;
      }
      yield* router.drain();
      if (badTimestamps > 0) {
        this.warnings.push(
          `${badTimestamps} embedding rows of ${this.path} have a started_at/completed_at that is not a YYYY-MM-DD HH:MM:SS[.ffffff] timestamp; they are NULL in the output`,
        );
      }
    } catch (error) {
      throw isSqliteError(error) ? sqliteFailure(error, this.path, "read") : error;
    }
  }

  close(): void {
    this.release();
    this.db.close();
  }

  /** The runs of the pinned snapshot, in the order rows refer to them. */
  runRecords(): RunTable {
    this.pin();
    return this.runTable;
  }

  private readRuns(): Map<string, RunInfo> {
    const runs = new Map<string, RunInfo>();
    this.runTable = new RunTable();
    let badNetworks = 0;
    const rows = this.db.prepare(RUNS_SQL).raw(true).all() as unknown[][];
    for (const [id, prompt, network, experimentId] of rows) {
      const path = networkPath(network);
      if (path === undefined) badNetworks++;
      const initialPrompt = prompt == null ? "" : String(prompt);
      const index = this.runTable.add({
        run_id: hyphenateUuid(String(id)),
        initial_prompt: initialPrompt,
        network: path ?? null,
        experiment_id: experimentId == null ? null : hyphenateUuid(String(experimentId)),
      });
      runs.set(String(id), { index, initialPrompt, keys: new Map() });
    }
    if (badNetworks > 0) {
      this.warnings.push(
        `${badNetworks} runs of ${this.path} have a network that is not a JSON list of model names; their network column is NULL`,
      );
    }
    return runs;
  }
}

/** Decides once, from the raw column value, whether a row has usable float32s. */
function classifyVector(value: unknown): [VectorStatus, Uint8Array | null] {
  if (value === null || value === undefined) return [VectorStatus.null, null];
  if (!(value instanceof Uint8Array)) return [VectorStatus.notBlob, null];
  if (value.byteLength % 4 !== 0) return [VectorStatus.badLength, null];
  return [VectorStatus.ok, value];
}

/** Used by source detection: the tables that mark this generation. */
export function isPythonEraSchema(tables: ReadonlySet<string>): boolean {
  return tables.has("run") && tables.has("invocation") && tables.has("embedding");
}

export function missingPythonEraTable(tables: ReadonlySet<string>): string | undefined {
  return Object.keys(PYTHON_ERA_TABLES).find((t) => !tables.has(t));
}
