import type Database from "better-sqlite3";
import type { RecordBatch } from "apache-arrow";
import { BatchesByDimension } from "../../frame/batchesByDimension.js";
import type { SourceRow } from "../../frame/sourceBatch.js";
import { RunTable } from "../../frame/runTable.js";
import { VectorStatus } from "../../frame/vectorStatus.js";
import { type DriftSource, type PairCount, type ScanOptions, type ScanProgress } from "../driftSource.js";
import { type SourceFilters } from "../sourceFilters.js";
import { sqliteFingerprint, type InputFingerprint } from "../inputFingerprint.js";
import { parseNaiveTimestampMicros } from "../naiveTimestamp.js";
import { isSqliteError, sqliteFailure, type SqliteValue } from "./sqliteFile.js";
import { setReadAhead } from "./nativeLibrary.js";
import { asText, isUtf8Slice, loadRowPacking, type PackedValue } from "./rowPacking.js";
import { PackedRunReader } from "./packedRunReader.js";
import { sqlitePairCounts } from "./sqlitePairCounts.js";
import { hasIndexLeadingWith, requireColumns } from "./sqliteSchema.js";
import { badNetworksWarning, filterRuns, inRunOrder, storedRun, type UnmatchedFilter } from "../runRecords.js";
import { READ_COLUMNS, textCondition, type SqliteLayout } from "./sqliteLayouts.js";
import { layoutQueries, modelClause, modelParameter, type LayoutQueries } from "./sqliteQueries.js";
import { sqliteSnapshotChanges, sqliteSnapshotState, type SnapshotRun, type SnapshotTables } from "./sqliteSnapshot.js";
import type { SnapshotChanges, SnapshotState } from "../snapshotState.js";

interface RunInfo {
  /** The run's id as stored (bound as is in the per-run query). */
  readonly storedId: unknown;
  /** Index in the snapshot's RunTable (the output's run order). */
  readonly index: number;
  readonly initialPrompt: string;
  /** Reference-pair key per embedding model, filled as models are met. */
  readonly keys: Map<string, number>;
}

/** Rowids per unit when reading in storage order. */
const RANGE_UNIT_ROWS = 65_536;

/**
 * A panic-tda SQLite database of either generation (see SqliteLayout: the
 * layouts differ only in table names and literals, so one reader serves
 * both).
 */
export class SqliteDriftSource implements DriftSource {
  readonly description: string;
  readonly fingerprint: InputFingerprint;
  readonly ordered: boolean;
  readonly warnings: string[] = [];
  badTimestamps = 0;
  private rowsDone = 0;
  private unitsDone = 0;
  private unitCount = 0;
  /** Runs per unit (ordered) or rowids per unit (storage order). */
  private unitSize = 1;
  private runs: RunInfo[] | undefined;
  private runTable = new RunTable();
  private router: BatchesByDimension | undefined;
  private span: { from: number; to: number } = { from: 1, to: 0 };

  private readonly sql: LayoutQueries;
  /** Reads a run's rows as packed slices, when this connection has the extension (see rowPacking.ts). */
  private readonly packed: PackedRunReader | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly layout: SqliteLayout,
    private readonly filters: SourceFilters = {},
  ) {
    this.description = layout.description;
    this.sql = layoutQueries(layout);
    for (const role of ["run", "invocation", "embedding"] as const) requireColumns(db, path, layout.tables[role], READ_COLUMNS[role]);
    this.ordered =
      hasIndexLeadingWith(db, path, layout.tables.invocation, "run_id") && hasIndexLeadingWith(db, path, layout.tables.embedding, "invocation_id");
    // After opening (a reader may create the -wal), before the read snapshot starts.
    this.fingerprint = sqliteFingerprint(path);
    const packing = loadRowPacking(db);
    this.packed = this.ordered && packing ? this.withSqliteErrors(() => new PackedRunReader(db, layout, this.modelClause())) : undefined;
    // In storage order the next pages are as often an image's as ours: no read-ahead there (images are never read).
    if (!this.ordered && packing) setReadAhead(db, false);
  }

  progress(): ScanProgress {
    return { done: this.unitsDone, total: this.unitCount, rows: this.rowsDone };
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
      const span = this.db.prepare(this.sql.span).raw(true).get() as [
        number | null,
        number | null,
      ];
      this.span = { from: span[0] ?? 1, to: span[1] ?? 0 };
    } catch (error) {
      this.release();
      throw isSqliteError(error) ? sqliteFailure(error, this.path, "read") : error;
    }
  }

  /** Ends the read transaction (a read-only one: nothing to lose). */
  release(): void {
    this.runs = undefined;
    this.router = undefined;
    if (!this.db.inTransaction) return;
    try {
      this.db.exec("ROLLBACK");
    } catch {
      /* already failing, or harmless */
    }
  }

  /**
   * The embedding rowid span (every row has a rowid in it; deleted rows
   * leave gaps), or, when only some runs are read (--run, an update, a
   * dataset's part), that span's share for those runs: a few runs of a big
   * database are not worth a reader thread.
   */
  estimatedRows(): number {
    this.pin();
    const span = Math.max(0, this.span.to - this.span.from + 1);
    if (!this.ordered || this.allRuns === 0) return span;
    return Math.ceil((span * this.runs!.length) / this.allRuns);
  }

  /**
   * Ordered: consecutive runs grouped so that a unit holds about
   * `batchRows` embeddings (estimated from the rowid span). Otherwise:
   * fixed rowid ranges. The same snapshot cuts the same way on every
   * connection.
   */
  units(batchRows: number): number {
    this.pin();
    const rowids = this.estimatedRows();
    if (this.ordered) {
      const runs = this.runs!.length;
      const perRun = runs === 0 ? 0 : rowids / runs;
      this.unitSize = Math.max(1, Math.floor(batchRows / Math.max(1, perRun)));
      this.unitCount = Math.ceil(runs / this.unitSize);
    } else {
      this.unitSize = RANGE_UNIT_ROWS;
      this.unitCount = Math.ceil(rowids / this.unitSize);
    }
    return this.unitCount;
  }

  *scanUnit(options: ScanOptions, unit: number): Generator<RecordBatch, void, undefined> {
    this.pin();
    if (this.unitCount === 0) this.units(options.batchRows);
    // One router for every unit: its float buffers are reused from unit to unit.
    this.router ??= new BatchesByDimension(options.batchRows, this.runTable, options.reuseVectors ?? false);
    const router = this.router;
    router.startUnit();
    try {
      if (this.ordered) {
        const statement = this.packed === undefined ? this.db.prepare(this.sql.run + this.modelClause()).raw(true) : undefined;
        const models = this.modelParameter();
        const runs = this.runs!;
        const last = Math.min(runs.length, (unit + 1) * this.unitSize);
        for (let r = unit * this.unitSize; r < last; r++) {
          const run = runs[r]!;
          if (options.excludePrompts.has(run.initialPrompt)) continue;
          if (statement === undefined) {
            for (const _slice of this.packed!.read(run.storedId, models, (raw, converted) => {
              this.push(router, options, run, raw, converted);
            })) {
              while (router.ready.length > 0) yield router.ready.shift()!;
            }
            continue;
          }
          for (const raw of statement.iterate(run.storedId, ...models) as IterableIterator<SqliteValue[]>) {
            this.push(router, options, run, raw);
            while (router.ready.length > 0) yield router.ready.shift()!;
          }
        }
      } else {
        const statement = this.db.prepare(this.sql.range + this.modelClause()).raw(true);
        const byId = new Map(this.runs!.map((run) => [run.storedId, run]));
        const lo = this.span.from + unit * this.unitSize;
        for (const raw of statement.iterate(lo, Math.min(this.span.to, lo + this.unitSize - 1), ...this.modelParameter()) as IterableIterator<SqliteValue[]>) {
          const run = byId.get(raw[5]);
          // Inner-join semantics (orphans dropped) and the prompt exclusions.
          if (run === undefined || options.excludePrompts.has(run.initialPrompt)) continue;
          this.push(router, options, run, raw);
          while (router.ready.length > 0) yield router.ready.shift()!;
        }
      }
      yield* router.drain();
      this.unitsDone++;
    } catch (error) {
      throw isSqliteError(error) ? sqliteFailure(error, this.path, "read") : error;
    }
  }

  private readonly row: SourceRow = {
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

  /**
   * One result row (EMBEDDING_COLUMNS, run id, INVOCATION_COLUMNS, vector)
   * into the batches. `converted`: its ids and timestamps went through
   * panic_drift_rows_into (a timestamp that is a number is then microseconds;
   * an id may be its four words).
   */
  private push(router: BatchesByDimension, options: ScanOptions, run: RunInfo, raw: PackedValue[], converted = false): void {
    const [id, invocationId, model, startedAt, completedAt, , sequence, textModel, text, vector] = raw;
    const row = this.row;
    const embeddingModel = asText(model);
    let key = run.keys.get(embeddingModel);
    if (key === undefined) {
      key = options.pairs.keyFor(run.initialPrompt, embeddingModel);
      run.keys.set(embeddingModel, key);
    }
    // Ids stay raw: the batch stores UUIDs as bytes and hyphenates the rest.
    row.id = id instanceof Uint32Array ? id : asText(id);
    row.invocation_id = invocationId instanceof Uint32Array ? invocationId : asText(invocationId);
    row.embedding_model = embeddingModel;
    row.started_at = converted && typeof startedAt === "number" ? startedAt : parseNaiveTimestampMicros(startedAt);
    row.completed_at = converted && typeof completedAt === "number" ? completedAt : parseNaiveTimestampMicros(completedAt);
    if ((row.started_at === null && startedAt != null) || (row.completed_at === null && completedAt != null)) {
      this.badTimestamps++;
    }
    row.run_index = run.index;
    row.sequence_number = Number(sequence);
    row.text_model = textModel == null ? null : asText(textModel);
    row.text = text == null ? null : isUtf8Slice(text) ? text : asText(text);
    const [status, blob] = classifyVector(vector);
    router.push(row, key, status, blob);
    this.rowsDone++;
  }

  pairCounts(excludePrompts: ReadonlySet<string>): PairCount[] {
    this.pin();
    const promptOfRun = new Map(this.runs!.map((run) => [run.storedId, run.initialPrompt]));
    return this.withSqliteErrors(() => sqlitePairCounts(this.db, this.sql.pairs + this.modelClause(), this.modelParameter(), promptOfRun, excludePrompts));
  }

  close(): void {
    this.release();
    this.db.close();
  }

  private modelClause(): string {
    return modelClause(this.filters);
  }

  private modelParameter(): string[] {
    return modelParameter(this.filters);
  }

  /** Index-only facts of the pinned snapshot, for the next incremental update (see snapshotState.ts). */
  snapshotState(): SnapshotState {
    this.pin();
    return this.withSqliteErrors(() => sqliteSnapshotState(this.db, this.snapshotTables(), this.snapshotRuns()));
  }

  snapshotChanges(previous: SnapshotState): SnapshotChanges {
    this.pin();
    return this.withSqliteErrors(() => sqliteSnapshotChanges(this.db, this.snapshotTables(), this.snapshotRuns(), previous));
  }

  /** From now on only these runs are read (an incremental update); run indices do not change. */
  limitToRuns(runIds: ReadonlySet<string>): void {
    this.pin();
    this.runs = this.runs!.filter((run) => runIds.has(this.runTable.record(run.index).run_id));
    this.unitCount = 0;
  }

  private snapshotTables(): SnapshotTables {
    const { layout } = this;
    return {
      invocation: layout.tables.invocation,
      embedding: layout.tables.embedding,
      textCondition: textCondition(layout),
      modelClause: this.modelClause(),
      modelParameter: this.modelParameter(),
    };
  }

  private snapshotRuns(): SnapshotRun[] {
    return this.runs!.map((run) => ({ storedId: run.storedId, record: this.runTable.record(run.index) }));
  }

  private withSqliteErrors<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw isSqliteError(error) ? sqliteFailure(error, this.path, "read") : error;
    }
  }

  private unmatchedRuns: UnmatchedFilter[] = [];
  /** How many runs the snapshot holds, filters aside. */
  private allRuns = 0;

  /**
   * The --run/--experiment values no run has, and the --model values no
   * embedding has: a model is looked for with LIMIT 1 (found at once when it
   * is there); only when one is missing are the models listed (a scan).
   */
  unmatchedFilters(): UnmatchedFilter[] {
    this.pin();
    const models = this.filters.models ?? [];
    if (models.length === 0) return this.unmatchedRuns;
    const embedding = this.layout.tables.embedding;
    return this.withSqliteErrors(() => {
      const probe = this.db.prepare(`SELECT 1 FROM ${embedding} WHERE embedding_model = ? LIMIT 1`).pluck();
      const missing = models.filter((model) => probe.get(model) === undefined);
      if (missing.length === 0) return this.unmatchedRuns;
      const known = (this.db.prepare(`SELECT DISTINCT embedding_model FROM ${embedding}`).pluck().all()).map(String).sort();
      return [...this.unmatchedRuns, ...missing.map((value) => ({ option: "--model" as const, value, known }))];
    });
  }

  /** The runs of the pinned snapshot, in the output's order. */
  runRecords(): RunTable {
    this.pin();
    return this.runTable;
  }

  /** The runs, in the output's order: by run_id as the frame shows it, compared as UTF-8 bytes like DuckDB. */
  private readRuns(): RunInfo[] {
    const rows = this.db.prepare(this.sql.runs).raw(true).all() as SqliteValue[][];
    const records = inRunOrder(rows.map(([id, prompt, network, experimentId]) => storedRun(id, prompt, network, experimentId)));
    const { kept, unmatched } = filterRuns(records, this.filters);
    this.unmatchedRuns = unmatched;
    this.allRuns = records.length;
    const badNetworks = badNetworksWarning(records, this.path);
    // pin() runs again after release(): the same snapshot warnings only once.
    if (badNetworks !== undefined && !this.warnings.includes(badNetworks)) this.warnings.push(badNetworks);
    this.runTable = new RunTable();
    return kept.map(({ storedId, record }) => ({
      storedId,
      index: this.runTable.add(record),
      initialPrompt: record.initial_prompt,
      keys: new Map<string, number>(),
    }));
  }
}

/** Decides once, from the raw column value, whether a row has usable float32s. */
function classifyVector(value: unknown): [VectorStatus, Uint8Array | null] {
  if (value === null || value === undefined) return [VectorStatus.null, null];
  if (!(value instanceof Uint8Array)) return [VectorStatus.notBlob, null];
  if (value.byteLength % 4 !== 0) return [VectorStatus.badLength, null];
  return [VectorStatus.ok, value];
}
