import type duckdb from "@duckdb/node-bindings";
import { availableParallelism } from "node:os";
import { duckdbBindings } from "../../common/duckdb.js";
import { PanicDriftError } from "../../common/errors.js";
import { sqlString } from "../../common/text.js";
import { waitAsync } from "../../common/waitAsync.js";
import type { RecordBatch } from "../../frame/arrow.js";
import { BatchesByDimension } from "../../frame/batchesByDimension.js";
import { toSourceBatchTransfer } from "../../frame/batchTransfer.js";
import { ReferencePairs } from "../../frame/referencePairs.js";
import type { RunTable } from "../../frame/runTable.js";
import type { SourceRow } from "../../frame/sourceBatch.js";
import { VectorStatus } from "../../frame/vectorStatus.js";
import { BigIntColumn, FloatListColumn, int32Column, StringColumn } from "./duckdbVectors.js";
import type { ExportFiles } from "./exportFiles.js";
import { fileInUnitOrder, unitPlan } from "./exportUnits.js";
import type { FromExportWorker, PinnedExport, ScanRequest } from "./parquetExportProtocol.js";

/** The needed columns, in this order, in every scan query. */
const SCAN_COLUMNS = 11;

export interface RunState {
  readonly prompt: string;
  /** Reference-pair key per embedding model, filled as models are met. */
  readonly keys: Map<string, number>;
}

/** What the scan needs of the thread: the pinned export and its runs, and the way to the main thread. */
export interface ScanContext {
  readonly files: ExportFiles;
  readonly pinned: PinnedExport;
  readonly runStates: readonly RunState[];
  readonly runTable: RunTable;
  readonly post: (message: FromExportWorker, transfer?: ArrayBuffer[]) => void;
  /** Batches posted and not taken yet by the main thread. */
  readonly inFlight: Int32Array;
  /** Scans cancelled by the main thread: this one stops at its next step once its id is in. */
  readonly cancelled: ReadonlySet<number>;
}

/** A unit with rows in, not handed on yet: its batches so far, and counts. */
interface OpenUnit {
  router: BatchesByDimension;
  held: RecordBatch[];
  rows: number;
  badTimestamps: number;
}

/**
 * Streams units `fromUnit`, `fromUnit + 1`, … to the main thread: each
 * unit's batches, then its marker. When embeddings.parquet already holds
 * the units' rows one unit after another (upstream's exports are written
 * run by run, and uuid_v7 run ids grow with time), DuckDB reads it in file
 * order; otherwise it sorts the rows by run (spilling to the temporary
 * directory past its memory limit). Either way a unit is handed on once all
 * its rows (counted at pin()) are in, and rows of later units that come
 * early wait in their own batches: DuckDB's order need not be exact.
 */
export class ExportScan {
  private readonly units: number;
  private readonly excluded: ReadonlySet<number>;
  private readonly unitOfRun: Int32Array;
  private readonly expected: number[];
  private readonly pairs = new ReferencePairs();
  private pairsSent = 0;
  private readonly open = new Map<number, OpenUnit>();
  /** The next unit to hand on. */
  private next: number;
  /** What to post after the chunk (waiting for the main thread when it is behind). */
  private readonly outbox: ({ batch: RecordBatch; unit: number } | FromExportWorker)[] = [];
  private readonly row: SourceRow = { id: "", invocation_id: "", embedding_model: "", started_at: null, completed_at: null, run_index: 0, sequence_number: 0, text_model: null, text: null };

  constructor(
    private readonly context: ScanContext,
    private readonly request: ScanRequest,
  ) {
    this.units = request.unitStarts.length;
    this.excluded = new Set(request.excludedRuns);
    ({ unitOfRun: this.unitOfRun, expected: this.expected } = unitPlan(request.unitStarts, context.pinned.rows, this.excluded));
    this.next = request.fromUnit;
  }

  /** A method, not a getter: it changes across awaits. */
  private cancelled(): boolean {
    return this.context.cancelled.has(this.request.scanId);
  }

  async run(): Promise<void> {
    const { files, pinned } = this.context;
    const { fromUnit, unitStarts } = this.request;
    const inFileOrder = fileInUnitOrder(this.unitOfRun, this.units, pinned.firstRow, pinned.lastRow);
    const from = fromUnit < this.units ? unitStarts[fromUnit]! : pinned.runs.length;
    const connection = await files.connect();
    await connection.run(`SET threads = ${inFileOrder ? 1 : Math.max(1, Math.min(2, availableParallelism()))}`);
    const sql = `SELECT ${files.text("embeddings", "e", "id")}, ${files.text("embeddings", "e", "invocation_id")}, ${files.text("embeddings", "e", "embedding_model")},
        epoch_us(TRY_CAST(e.started_at AS TIMESTAMPTZ)), epoch_us(TRY_CAST(e.completed_at AS TIMESTAMPTZ)),
        ((e.started_at IS NOT NULL AND TRY_CAST(e.started_at AS TIMESTAMPTZ) IS NULL) OR (e.completed_at IS NOT NULL AND TRY_CAST(e.completed_at AS TIMESTAMPTZ) IS NULL))::UTINYINT,
        i.run_index, i.sequence_number, i.model, i.output_text, ${files.vectorExpression()}
      FROM read_parquet(${sqlString(files.file("embeddings"))}) AS e JOIN pd_inv AS i ON ${files.text("embeddings", "e", "invocation_id")} = i.id
      WHERE NOT i.is_prompt AND i.run_index >= ${from}${files.modelCondition()}${this.excluded.size > 0 ? ` AND i.run_index NOT IN (${[...this.excluded].join(", ")})` : ""}
      ${inFileOrder ? "" : "ORDER BY i.run_index"}`;

    this.handOn(false);
    let result;
    try {
      result = await connection.stream(sql);
    } catch (error) {
      throw files.readFailure(error, "embeddings");
    }
    // The next chunk is fetched (DuckDB decoding, off this thread) while this one is turned into rows.
    let fetching = result.fetchChunk();
    for (;;) {
      let chunk;
      try {
        chunk = await fetching;
      } catch (error) {
        throw files.readFailure(error, "embeddings");
      }
      if (this.cancelled()) return;
      if (chunk === null || chunk.rowCount === 0) break;
      fetching = result.fetchChunk();
      this.take(chunk.chunk, chunk.rowCount);
      await this.flush();
      if (this.cancelled()) return;
    }
    this.handOn(true);
    await this.flush();
  }

  /** Routes a chunk's rows into their units' batches, handing on the units it completes. */
  private take(raw: duckdb.DataChunk, n: number): void {
    if (duckdbBindings.data_chunk_get_column_count(raw) !== SCAN_COLUMNS) throw new Error("the scan query returned other columns than asked for");
    const vector = (c: number) => duckdbBindings.data_chunk_get_vector(raw, c);
    const ids = new StringColumn(vector(0), n);
    const invocationIds = new StringColumn(vector(1), n);
    const models = new StringColumn(vector(2), n);
    const started = new BigIntColumn(vector(3), n);
    const completed = new BigIntColumn(vector(4), n);
    const badTime = duckdbBindings.vector_get_data(vector(5), n);
    const runIndex = int32Column(vector(6), n);
    const sequence = new BigIntColumn(vector(7), n);
    const textModels = new StringColumn(vector(8), n);
    const texts = new StringColumn(vector(9), n);
    const vectors = new FloatListColumn(vector(10), n);
    // Locals on the per-row path: no property load per row for what does not change.
    const { row, unitOfRun, expected, outbox, pairs } = this;
    const { runStates } = this.context;
    for (let r = 0; r < n; r++) {
      const run = runIndex[r]!;
      const unit = unitOfRun[run]!;
      if (unit < this.next) {
        throw new PanicDriftError("EXPORT_CHANGED", `${this.context.files.file("embeddings")} changed while it was read (a run has more rows than it had): rerun once the export is written completely`);
      }
      const entry = this.openUnit(unit);
      const model = models.get(r) ?? "";
      const state = runStates[run]!;
      let key = state.keys.get(model);
      if (key === undefined) {
        key = pairs.keyFor(state.prompt, model);
        state.keys.set(model, key);
      }
      row.id = ids.get(r) ?? "";
      row.invocation_id = invocationIds.get(r) ?? "";
      row.embedding_model = model;
      row.started_at = started.get(r);
      row.completed_at = completed.get(r);
      row.run_index = run;
      row.sequence_number = sequence.get(r) ?? 0;
      row.text_model = textModels.get(r);
      row.text = texts.get(r);
      const blob = vectors.get(r);
      entry.router.push(row, key, blob === null ? VectorStatus.null : VectorStatus.ok, blob);
      entry.rows++;
      entry.badTimestamps += badTime[r]!;
      if (unit === this.next) {
        for (const batch of entry.router.ready.splice(0)) outbox.push({ batch, unit });
        if (entry.rows >= expected[unit]!) this.handOn(false);
      } else {
        entry.held.push(...entry.router.ready.splice(0));
      }
    }
  }

  private openUnit(unit: number): OpenUnit {
    let entry = this.open.get(unit);
    if (entry === undefined) {
      entry = { router: new BatchesByDimension(this.request.batchRows, this.context.runTable, false), held: [], rows: 0, badTimestamps: 0 };
      this.open.set(unit, entry);
    }
    return entry;
  }

  /** Hands on the next units whose rows are all in (all of them at the end). */
  private handOn(end: boolean): void {
    const { scanId } = this.request;
    while (this.next < this.units) {
      const unit = this.next;
      const entry = this.open.get(unit);
      if (!end && (entry?.rows ?? 0) < this.expected[unit]!) return;
      if (entry !== undefined) {
        for (const batch of [...entry.held, ...entry.router.ready.splice(0), ...entry.router.drain()]) this.outbox.push({ batch, unit });
        this.open.delete(unit);
      }
      this.outbox.push({ type: "unit", scanId, unit, rows: entry?.rows ?? 0, badTimestamps: entry?.badTimestamps ?? 0 });
      this.next++;
    }
  }

  /** Posts what the chunk produced, never more than maxInFlight batches ahead of the main thread. */
  private async flush(): Promise<void> {
    const { post, inFlight } = this.context;
    const { scanId, maxInFlight } = this.request;
    for (const message of this.outbox.splice(0)) {
      if (this.cancelled()) return;
      if ("batch" in message && !("type" in message)) {
        while (Atomics.load(inFlight, 0) >= maxInFlight) {
          await waitAsync(inFlight, 0, Atomics.load(inFlight, 0), 200);
          if (this.cancelled()) return;
        }
        const { message: batch, transfer } = toSourceBatchTransfer(message.batch);
        Atomics.add(inFlight, 0, 1);
        post({ type: "batch", scanId, unit: message.unit, batch, pairs: this.newPairs() }, transfer);
      } else {
        post(message);
      }
    }
  }

  /** The reference pairs met since the last batch posted: the main thread keys them in the same order. */
  private newPairs(): [string, string][] {
    const added: [string, string][] = [];
    for (; this.pairsSent < this.pairs.size; this.pairsSent++) {
      const pair = this.pairs.pair(this.pairsSent);
      added.push([pair.initialPrompt, pair.embeddingModel]);
    }
    return added;
  }
}
