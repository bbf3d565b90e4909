import type duckdb from "@duckdb/node-bindings";
import type { DuckDBConnection, DuckDBDataChunk, DuckDBInstance, DuckDBType } from "@duckdb/node-api";
import type { Data, Dictionary, Utf8 } from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriftedBatch, DriftedBatches } from "../frame/driftedBatch.js";
import { PanicDriftError } from "../common/errors.js";
import { onInterrupt, throwIfInterrupted, whenInterrupted } from "../common/interruptCleanup.js";
import { RUN_COLUMNS, type RunTable } from "../frame/runTable.js";
import { duckdbApi, duckdbBindings } from "../common/duckdb.js";
import { AtomicOutput } from "./atomicOutput.js";
import type { OutputPolicy } from "./outputGuard.js";
import { RESULT_KEY } from "./cacheMetadata.js";
import { OUTPUT_COLUMN_NAMES as OUTPUT_COLUMNS, type OutputColumn } from "../frame/frameColumns.js";
import { fillResultSlot, resultPlaceholder } from "./resultSlot.js";
import { firstLine, sqlString } from "../common/text.js";

const { BIGINT, DOUBLE, INTEGER, TIMESTAMP, UUID, VARCHAR, DuckDBTableFunction } = duckdbApi;

/**
 * The columns the frame's table function hands DuckDB, per batch column:
 * ids as UUID (the rare non-UUID id as text beside it), models as text, the
 * run as its index in the run table (the run's four columns are looked up
 * in the COPY's SELECT), and the drift.
 */
const SCAN_COLUMNS: readonly (readonly [name: string, type: DuckDBType, from: string])[] = [
  ["id", UUID, "id"],
  ["id_other", VARCHAR, "id_other"],
  ["invocation_id", UUID, "invocation_id"],
  ["invocation_id_other", VARCHAR, "invocation_id_other"],
  ["embedding_model", VARCHAR, "embedding_model"],
  ["started_at", TIMESTAMP, "started_at"],
  ["completed_at", TIMESTAMP, "completed_at"],
  ["run_index", INTEGER, "run_id"],
  ["sequence_number", BIGINT, "sequence_number"],
  ["text_model", VARCHAR, "text_model"],
  ["text", VARCHAR, "text"],
  ["semantic_drift", DOUBLE, "semantic_drift"],
];

/** The SQL that turns the scanned columns into one output column. */
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
const ROW_GROUP_ROWS = 32_768;

/**
 * zstd at level 1 rather than DuckDB's default 3: writing the 200k-row bench
 * frame takes 0.26 s of DuckDB's thread instead of 0.44 s, for a file 6%
 * larger (9.99 MB against 9.39 MB; snappy would be 16.7 MB).
 */
const COMPRESSION = "COMPRESSION zstd, COMPRESSION_LEVEL 1";

/**
 * The rows of an earlier file to keep (an incremental update): every run of
 * the output, in the output's run order, its rows either kept from the
 * earlier file or recomputed. A run in neither list has no rows.
 */
export interface PreviousRows {
  readonly file: string;
  readonly runs: readonly (readonly [runId: string, kept: boolean])[];
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

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
    let streamError: unknown;
    const { signal } = options;
    // Stopped: DuckDB ends the query at its next check (sorting, merging, writing), and the table function throws on its next call.
    const stopListening = whenInterrupted(signal, () => { this.connection.interrupt(); });
    try {
      await this.setRunVariables(runs);
      const frame = new FrameScan(stream, onBatch, signal);
      this.connection.registerTableFunction(
        DuckDBTableFunction.create({
          name: "panic_drift_frame",
          bindFunction: (info) => {
            for (const [name, type] of SCAN_COLUMNS) info.addResultColumn(name, type);
          },
          initFunction: () => {},
          mainFunction: (_info, output) => {
            try {
              frame.fill(output);
            } catch (error) {
              // DuckDB keeps only a message: the error itself is rethrown below.
              streamError = error;
              throw error;
            }
          },
        }),
      );
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
      if (streamError !== undefined) throw streamError;
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

/**
 * The table function's state: the current batch and how far into it
 * DuckDB has taken rows, a data chunk (≤ 2,048 rows) per call.
 */
class FrameScan {
  private current: DriftedBatch | undefined;
  private columns: Data[] = [];
  private offset = 0;
  private finished = false;

  constructor(
    private readonly stream: DriftedBatches,
    private readonly onBatch: (() => void) | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  fill(output: DuckDBDataChunk): void {
    // Called by DuckDB's thread through this one: a stopped run fails the query here rather than read on.
    throwIfInterrupted(this.signal);
    while (!this.finished && (this.current === undefined || this.offset >= this.current.batch.numRows)) {
      if (this.current !== undefined) this.onBatch?.();
      this.current = this.stream.next();
      this.offset = 0;
      if (this.current === undefined) this.finished = true;
      else this.columns = SCAN_COLUMNS.map(([, , from]) => columnData(this.current!, from));
    }
    if (this.finished || this.current === undefined) {
      output.rowCount = 0;
      return;
    }
    const rows = Math.min(CHUNK_ROWS, this.current.batch.numRows - this.offset);
    output.rowCount = rows;
    SCAN_COLUMNS.forEach(([, type], index) => { fillColumn(output, index, type, this.columns[index]!, this.offset, rows); });
    this.offset += rows;
  }
}

function columnData({ batch, drift }: DriftedBatch, name: string): Data {
  if (name === "semantic_drift") return drift;
  const data = batch.getChild(name)?.data[0];
  if (data === undefined) throw new Error(`drifted batch lacks column ${name}`);
  return data;
}

const encoded = new WeakMap<object, (Uint8Array | null)[]>();

/**
 * Moves rows [start, start + rows) of one Arrow column into a DuckDB data
 * chunk's vector. Fixed-width values and the validity bitmap (Arrow's and
 * DuckDB's are the same LSB-first bits) are copied in bulk; strings go as
 * their UTF-8 bytes, never decoded; a dictionary column (the models)
 * assigns its values' bytes, encoded once per dictionary.
 */
function fillColumn(chunk: DuckDBDataChunk, index: number, type: DuckDBType, data: Data, start: number, rows: number): void {
  const vector = duckdbBindings.data_chunk_get_vector(chunk.chunk, index);
  if (data.dictionary !== undefined && type.typeId === VARCHAR.typeId) {
    const dictionary = data.dictionary as unknown as { data: Data<Utf8>[] };
    let values = encoded.get(dictionary);
    if (values === undefined) {
      const utf8 = dictionary.data[0]!;
      values = [];
      for (let k = 0; k < utf8.length; k++) values.push(utf8.getValid(k) ? utf8.values.subarray(utf8.valueOffsets[k], utf8.valueOffsets[k + 1]) : null);
      encoded.set(dictionary, values);
    }
    const indices = (data as Data<Dictionary<Utf8>>).values as Int32Array;
    for (let i = 0; i < rows; i++) {
      const value = data.getValid(start + i) ? values[indices[start + i]!] : null;
      if (value != null) duckdbBindings.vector_assign_string_element_len(vector, i, value);
    }
    copyValidity(vector, data, start, rows);
  } else if (type.typeId === VARCHAR.typeId) {
    const utf8 = data as Data<Utf8>;
    const offsets = utf8.valueOffsets;
    const bytes = utf8.values;
    for (let i = 0; i < rows; i++) {
      const row = start + i;
      if (utf8.getValid(row)) duckdbBindings.vector_assign_string_element_len(vector, i, bytes.subarray(offsets[row], offsets[row + 1]));
    }
    copyValidity(vector, data, start, rows);
  } else {
    // Fixed width (UUID bytes, int32 run indices, int64, timestamps, double): one copy.
    const values = data.values as ArrayBufferView;
    const width = values.byteLength / data.length;
    duckdbBindings.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * width, rows * width);
    copyValidity(vector, data, start, rows);
  }
}

/** Sets DuckDB's validity from Arrow's null bitmap; nothing to do when all rows are valid. */
function copyValidity(vector: duckdb.Vector, data: Data, start: number, rows: number): void {
  if (data.nullCount === 0) return;
  const mask = new Uint8Array(Math.ceil(rows / 64) * 8);
  if ((start & 7) === 0 && data.offset === 0 && data.nullBitmap) {
    mask.set(data.nullBitmap.subarray(start >> 3, (start + rows + 7) >> 3));
    // Bits past the last row of a partial byte belong to the next chunk: clear them.
    if (rows & 7) mask[rows >> 3]! &= (1 << (rows & 7)) - 1;
  } else {
    for (let i = 0; i < rows; i++) if (data.getValid(start + i)) mask[i >> 3]! |= 1 << (i & 7);
  }
  duckdbBindings.vector_ensure_validity_writable(vector);
  duckdbBindings.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
}


/** What to do when the disk (or the file-size limit) is full. */
function spaceAdvice(error: unknown): string {
  return /No space left|File too large|ENOSPC|EFBIG/i.test(String(error)) ? ": free space on that disk (or raise the file-size limit), or choose another --out" : "";
}

