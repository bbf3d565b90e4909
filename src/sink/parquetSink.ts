import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriftedBatches } from "../frame/driftedBatch.js";
import { PanicDriftError } from "../common/errors.js";
import { onInterrupt, throwIfInterrupted, whenInterrupted } from "../common/interruptCleanup.js";
import { RUN_COLUMNS, type RunTable } from "../frame/runTable.js";
import { duckdbApi } from "../common/duckdb.js";
import { AtomicOutput } from "./atomicOutput.js";
import type { OutputPolicy } from "./outputGuard.js";
import { RESULT_KEY } from "./cacheMetadata.js";
import { OUTPUT_COLUMN_NAMES as OUTPUT_COLUMNS, type OutputColumn } from "../frame/frameColumns.js";
import { fillResultSlot, resultPlaceholder } from "./resultSlot.js";
import { firstLine, sqlString } from "../common/text.js";
import { registerFrameScan } from "./frameScan.js";

/** The SQL that turns the columns of panic_drift_frame() (see frameScan.ts) into one output column. */
function outputExpression(column: OutputColumn): string {
  if (column === "id" || column === "invocation_id") return `coalesce(f."${column}_other", CAST(f."${column}" AS VARCHAR))`;
  // A run column: its values by run index, held in a DuckDB variable (a constant of the query).
  if ((RUN_COLUMNS as readonly string[]).includes(column)) return `getvariable('${column}')[f.run_index + 1]`;
  return `f."${column}"`;
}

/**
 * The output order (run_id, embedding_model, sequence_number, id), for an
 * unordered source: run indices follow the run_id order, UUIDs sort like
 * their text, and the rare non-UUID id sorts after the UUIDs of its step.
 */
const OUTPUT_ORDER = `f.run_index, f.embedding_model, f.sequence_number, f.id, f.id_other`;

/**
 * Rows per parquet row group: DuckDB holds one row group while writing it,
 * so this bounds the sink's memory (32k rows: ~60 MB less peak RSS than
 * DuckDB's default 122,880, same speed, a file 0.1% larger).
 */
export const ROW_GROUP_ROWS = 32_768;

/**
 * zstd at level 1 rather than DuckDB's default 3: writing the 200k-row bench
 * frame takes 0.26 s of DuckDB's thread instead of 0.44 s, for a file 6%
 * larger (9.99 MB against 9.39 MB; snappy would be 16.7 MB).
 */
export const COMPRESSION = "COMPRESSION zstd, COMPRESSION_LEVEL 1";

/**
 * The rows of an earlier file to keep (an incremental update): every run of
 * the output, in the output's run order, its rows either kept from the
 * earlier file or recomputed. A run in neither list has no rows.
 */
export interface PreviousRows {
  readonly file: string;
  readonly runs: readonly (readonly [runId: string, kept: boolean])[];
}

export interface ParquetSinkOptions {
  /** DuckDB's memory limit; past it a sort spills to a temp directory. */
  memoryLimit?: string;
  threads?: number;
}

/**
 * Writes the frame as one zstd parquet file with key-value metadata,
 * atomically. DuckDB pulls the drifted batches through a table function as
 * it writes, so the frame streams through and is never held whole; an
 * unordered stream is sorted by DuckDB on the way (spilling past its
 * memory limit).
 */
export class ParquetSink {
  private readonly unregister: () => void;

  private constructor(
    private readonly output: AtomicOutput,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spillDir: string,
  ) {
    this.unregister = onInterrupt(() => { rmSync(spillDir, { recursive: true, force: true }); });
  }

  static async open(target: string, policy: OutputPolicy, options: ParquetSinkOptions = {}): Promise<ParquetSink> {
    const output = AtomicOutput.begin(target, policy);
    let spillDir: string;
    try {
      spillDir = mkdtempSync(join(tmpdir(), "panic-drift-"));
    } catch (error) {
      output.abort();
      throw new PanicDriftError(
        "OUTPUT_WRITE_FAILED",
        `cannot create a temporary directory in ${tmpdir()} (${(error as NodeJS.ErrnoException).code ?? "error"}): set TMPDIR to a writable directory`,
        { cause: error },
      );
    }
    try {
      const instance = await duckdbApi.DuckDBInstance.create(":memory:", {
        memory_limit: options.memoryLimit ?? "256MB",
        threads: String(options.threads ?? 1),
        temp_directory: spillDir,
        // The rows leave in the order the table function gives them (or the ORDER BY's).
        preserve_insertion_order: "true",
      });
      const connection = await instance.connect();
      return new ParquetSink(output, instance, connection, spillDir);
    } catch (error) {
      output.abort();
      rmSync(spillDir, { recursive: true, force: true });
      throw error;
    }
  }

  private placeholder = "";

  /**
   * Streams every batch of `stream` into the file, with `metadata` as
   * key-value metadata and a reserved slot for the result (see finish).
   * `onBatch` is called after each batch. Returns the rows written.
   */
  async write(
    stream: DriftedBatches,
    runs: RunTable,
    metadata: Readonly<Record<string, string>>,
    onBatch?: () => void,
    options: { previous?: PreviousRows; signal?: AbortSignal } = {},
  ): Promise<number> {
    /** What the stream threw, kept whole (DuckDB keeps only a message). */
    let streamFailure: { error: unknown } | undefined;
    const { signal } = options;
    // Stopped: DuckDB ends the query at its next check (sorting, merging, writing), and the table function throws on its next call.
    const stopListening = whenInterrupted(signal, () => { this.connection.interrupt(); });
    try {
      await this.setRunVariables(runs);
      registerFrameScan(this.connection, stream, onBatch, signal, (error) => {
        streamFailure = { error };
      });
      this.placeholder = resultPlaceholder();
      const kv = [...Object.entries(metadata), [RESULT_KEY, this.placeholder]].map(([k, v]) => `${sqlString(k!)}: ${sqlString(v!)}`).join(", ");
      const select = OUTPUT_COLUMNS.map((c) => `${outputExpression(c)} AS "${c}"`).join(", ");
      let rows = `SELECT ${select} FROM panic_drift_frame() AS f${stream.ordered ? "" : ` ORDER BY ${OUTPUT_ORDER}`}`;
      if (options.previous !== undefined) rows = await this.mergeWithPrevious(rows, options.previous);
      // DuckDB forgets an interrupt when a query starts: one that came between queries is seen here.
      throwIfInterrupted(signal);
      // USE_TMP_FILE false: the target is our own temporary file already (see AtomicOutput).
      const reader = await this.connection.runAndReadAll(
        `COPY (${rows})
         TO ${sqlString(this.output.temporary)} (FORMAT parquet, ${COMPRESSION}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, USE_TMP_FILE false, KV_METADATA {${kv}})`,
      );
      throwIfInterrupted(signal);
      return Number(reader.getRows()[0]?.[0] ?? 0);
    } catch (error) {
      this.abort();
      if (streamFailure !== undefined) throw streamFailure.error;
      throwIfInterrupted(signal);
      if (error instanceof PanicDriftError) throw error;
      throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${this.output.target}: ${firstLine(error)}${spaceAdvice(error)}`, { cause: error });
    } finally {
      stopListening();
    }
  }

  /**
   * An incremental update's rows: the recomputed runs (`rows`) go to a file
   * of their own first (small: they are the change); then one scan of each
   * file, joined to a table of the runs (run_id → position in the output's
   * run order, kept or not) that picks the kept runs' rows from the earlier
   * file, sorted by run position and position in their file (both files are
   * in the output's order, and a run's rows are all in one of them). Two
   * scans and one sort, whatever the number of stretches of kept and
   * recomputed runs: the sort spills past the memory limit. (A scan per
   * stretch, in one query, held a reader per stretch: some 600 stretches ran
   * DuckDB out of memory.) Returns the query.
   */
  private async mergeWithPrevious(rows: string, previous: PreviousRows): Promise<string> {
    const part = join(this.spillDir, "recomputed.parquet");
    await this.connection.run(`COPY (${rows}) TO ${sqlString(part)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
    await this.connection.run("CREATE TABLE panic_drift_runs (run_id VARCHAR NOT NULL, position INTEGER NOT NULL, kept BOOLEAN NOT NULL)");
    const appender = await this.connection.createAppender("panic_drift_runs");
    try {
      previous.runs.forEach(([runId, kept], position) => {
        appender.appendVarchar(runId);
        appender.appendInteger(position);
        appender.appendBoolean(kept);
        appender.endRow();
      });
    } finally {
      appender.closeSync();
    }
    const columns = OUTPUT_COLUMNS.map((c) => `"${c}"`).join(", ");
    const scan = (file: string, kept: boolean) =>
      `SELECT ${OUTPUT_COLUMNS.map((c) => `f."${c}"`).join(", ")}, r.position, f.file_row_number
       FROM read_parquet(${sqlString(file)}, file_row_number = true) AS f JOIN panic_drift_runs AS r ON r.run_id = f.run_id AND r.kept = ${kept}`;
    return `SELECT ${columns} FROM (${scan(previous.file, true)}\n UNION ALL ${scan(part, false)}) ORDER BY position, file_row_number`;
  }

  /** Fills the result slot with `resultJson` and puts the file in place. */
  finish(resultJson: string): void {
    try {
      this.release();
      fillResultSlot(this.output.temporary, this.placeholder, resultJson);
      this.output.commit();
    } catch (error) {
      this.abort();
      if (error instanceof PanicDriftError) throw error;
      throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${this.output.target}: ${firstLine(error)}`, { cause: error });
    }
  }

  /** Drops everything; an existing output stays untouched. */
  abort(): void {
    this.release();
    this.output.abort();
  }

  /**
   * The run columns' values by run index, as DuckDB variables. They go
   * through a table filled by an appender: a list literal in the SQL text
   * made DuckDB's parser hold ~60 MB for 4,600 runs (~700 MB for 46,000),
   * kept by malloc after.
   */
  private async setRunVariables(runs: RunTable): Promise<void> {
    const table = "panic_drift_run_values";
    await this.connection.run(`CREATE TABLE ${table} (run_index INTEGER NOT NULL, ${RUN_COLUMNS.map((c) => `"${c}" VARCHAR`).join(", ")})`);
    const appender = await this.connection.createAppender(table);
    try {
      for (let i = 0; i < runs.size; i++) {
        const record = runs.record(i);
        appender.appendInteger(i);
        for (const column of RUN_COLUMNS) {
          const value = record[column];
          if (value === null) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
    for (const column of RUN_COLUMNS) {
      await this.connection.run(`SET VARIABLE ${column} = (SELECT coalesce(list("${column}" ORDER BY run_index), []::VARCHAR[]) FROM ${table})`);
    }
    await this.connection.run(`DROP TABLE ${table}`);
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      rmSync(this.spillDir, { recursive: true, force: true });
      this.unregister();
    }
  }
}

/** What to do when the disk (or the file-size limit) is full. */
function spaceAdvice(error: unknown): string {
  return /No space left|File too large|ENOSPC|EFBIG/i.test(String(error)) ? ": free space on that disk (or raise the file-size limit), or choose another --out" : "";
}
