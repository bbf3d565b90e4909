import duckdb from "@duckdb/node-bindings";
import {
  INTEGER,
  UUID,
  VARCHAR,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBAppender,
  type DuckDBConnection,
} from "@duckdb/node-api";
import type { Data, Dictionary, RecordBatch, Utf8 } from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PanicDriftError } from "../errors.js";
import { AtomicOutput } from "./atomicOutput.js";
import { RUN_COLUMNS } from "../frame/runTable.js";
import { BATCH_FRAME_COLUMNS, MODEL_COLUMNS, type BatchFrameColumn } from "../frame/sourceBatch.js";
import { DictionaryColumn } from "./dictionaryColumn.js";
import { OUTPUT_COLUMNS, OUTPUT_TYPES, type OutputColumn } from "./outputColumns.js";

/**
 * How the frame table stores each column of a batch: ids as UUID (with the
 * rare non-UUID id as text beside it), dictionary columns as INTEGER indices
 * into side tables; the final SELECT turns them back into the frame.
 */
const STORAGE: Readonly<Record<BatchFrameColumn | "semantic_drift", DuckDBType>> = {
  id: UUID,
  id_other: VARCHAR,
  invocation_id: UUID,
  invocation_id_other: VARCHAR,
  embedding_model: INTEGER,
  started_at: OUTPUT_TYPES.started_at,
  completed_at: OUTPUT_TYPES.completed_at,
  run_id: INTEGER,
  sequence_number: OUTPUT_TYPES.sequence_number,
  text_model: INTEGER,
  text: VARCHAR,
  initial_prompt: INTEGER,
  network: INTEGER,
  experiment_id: INTEGER,
  semantic_drift: OUTPUT_TYPES.semantic_drift,
};
const STORED_COLUMNS = [...BATCH_FRAME_COLUMNS, "semantic_drift"] as const;
type StoredColumn = (typeof STORED_COLUMNS)[number];
const STORAGE_COLUMN_TYPES = STORED_COLUMNS.map((c) => STORAGE[c]);
const DICTIONARY_COLUMNS = [...MODEL_COLUMNS, ...RUN_COLUMNS] as const;
type DictionaryColumnName = (typeof DICTIONARY_COLUMNS)[number];

function isDictionaryColumn(column: string): column is DictionaryColumnName {
  return (DICTIONARY_COLUMNS as readonly string[]).includes(column);
}

/** The SQL that turns a stored column back into the output column. */
function outputExpression(column: OutputColumn): string {
  if (column === "id" || column === "invocation_id") return `coalesce(f."${column}_other", CAST(f."${column}" AS VARCHAR))`;
  if (isDictionaryColumn(column)) return `${dictionaryList(column, "v")}[f."${column}" + 1]`;
  return `f."${column}"`;
}

/**
 * A dictionary's values (or ranks) as one list, indexed by global index + 1:
 * leaner than a join. Held in a DuckDB variable (set in writeDictionaries):
 * a scalar subquery here would be planned as a join, which does not keep the
 * sorted table's order.
 */
function dictionaryList(column: DictionaryColumnName, field: "v" | "r"): string {
  return `getvariable('${field}_${column}')`;
}

/**
 * The output order (run_id, embedding_model, sequence_number, id) on the
 * stored columns: dictionary values ranked by DuckDB's own string order, and
 * ids as UUIDs, which sort like their text. The rare non-UUID id sorts after
 * the UUIDs of its (run, model, step).
 */
const STORED_ORDER = [
  `${dictionaryList("run_id", "r")}[f."run_id" + 1]`,
  `${dictionaryList("embedding_model", "r")}[f."embedding_model" + 1]`,
  `f."sequence_number"`,
  `f."id"`,
  `f."id_other"`,
].join(", ");

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export interface ParquetSinkOptions {
  /** DuckDB's memory limit; past it the buffered frame spills to a temp directory. */
  memoryLimit?: string;
  threads?: number;
}

/**
 * Collects the frame in a DuckDB table (appended a data chunk at a time,
 * never row by row), then sorts it into upstream's order and writes one
 * zstd parquet file with key-value metadata, atomically.
 */
export class ParquetSink {
  private constructor(
    private readonly output: AtomicOutput,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly appender: DuckDBAppender,
    private readonly spillDir: string,
  ) {}

  static async open(target: string, options: ParquetSinkOptions = {}): Promise<ParquetSink> {
    const output = AtomicOutput.begin(target);
    const spillDir = mkdtempSync(join(tmpdir(), "panic-drift-"));
    try {
      const instance = await DuckDBInstance.create(":memory:", {
        memory_limit: options.memoryLimit ?? "256MB",
        threads: String(options.threads ?? 2),
        temp_directory: spillDir,
        preserve_insertion_order: "false",
      });
      const connection = await instance.connect();
      const columns = STORED_COLUMNS.map((c) => `"${c}" ${STORAGE[c].toString()}`).join(", ");
      await connection.run(`CREATE TABLE frame (${columns})`);
      const appender = await connection.createAppender("frame");
      return new ParquetSink(output, instance, connection, appender, spillDir);
    } catch (error) {
      output.abort();
      rmSync(spillDir, { recursive: true, force: true });
      throw error;
    }
  }

  private readonly dictionaries = Object.fromEntries(
    DICTIONARY_COLUMNS.map((c) => [c, new DictionaryColumn()]),
  ) as Record<DictionaryColumnName, DictionaryColumn>;

  /** Appends the frame columns of `batch` with its computed drift column. */
  async append(batch: RecordBatch, drift: Data): Promise<void> {
    const n = batch.numRows;
    const columns = STORED_COLUMNS.map((name) => (name === "semantic_drift" ? drift : batch.getChild(name)?.data[0]));
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      const chunk = DuckDBDataChunk.create(STORAGE_COLUMN_TYPES, rows);
      STORED_COLUMNS.forEach((name, index) => {
        const data = columns[index];
        if (data === undefined) throw new Error(`source batch lacks column ${name}`);
        fillColumn(chunk, index, name, data, start, rows, isDictionaryColumn(name) ? this.dictionaries[name] : undefined);
      });
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Writes each dictionary's values into its side table (k = global index). */
  private async writeDictionaries(): Promise<void> {
    for (const column of DICTIONARY_COLUMNS) {
      await this.connection.run(`CREATE TABLE "dict_${column}" (k INTEGER, v VARCHAR, r INTEGER)`);
      const appender = await this.connection.createAppender(`dict_${column}`);
      this.dictionaries[column].values.forEach((value, k) => {
        appender.appendInteger(k);
        if (value === null) appender.appendNull();
        else appender.appendVarchar(value);
        appender.appendNull();
        appender.endRow();
      });
      appender.closeSync();
      await this.connection.run(
        `UPDATE "dict_${column}" AS d SET r = ranked.r FROM (SELECT k, (rank() OVER (ORDER BY v))::INTEGER AS r FROM "dict_${column}") AS ranked WHERE d.k = ranked.k`,
      );
      for (const field of ["v", "r"]) {
        await this.connection.run(`SET VARIABLE ${field}_${column} = (SELECT coalesce(list(${field} ORDER BY k), []) FROM "dict_${column}")`);
      }
    }
  }

  /**
   * Sorts, writes the parquet file with `metadata` as key-value metadata and
   * puts it in place. Returns the number of rows written.
   */
  async finish(metadata: Readonly<Record<string, string>>): Promise<number> {
    try {
      this.appender.flushSync();
      this.appender.closeSync();
      await this.writeDictionaries();
      const kv = Object.entries(metadata)
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(", ");
      // Sort the compact stored rows first (ints and UUIDs as keys; that sort
      // spills within the memory limit), then turn them into the frame's text
      // while streaming them out in that order.
      await this.connection.run("SET preserve_insertion_order = true");
      await this.connection.run(`CREATE TABLE sorted AS SELECT f.* FROM frame AS f ORDER BY ${STORED_ORDER}`);
      await this.connection.run("DROP TABLE frame");
      const select = OUTPUT_COLUMNS.map((c) => `${outputExpression(c)} AS "${c}"`).join(", ");
      const reader = await this.connection.runAndReadAll(
        `COPY (SELECT ${select} FROM sorted AS f) TO ${sqlString(this.output.temporary)}
         (FORMAT parquet, COMPRESSION zstd${kv ? `, KV_METADATA {${kv}}` : ""})`,
      );
      const written = Number(reader.getRows()[0]?.[0] ?? 0);
      this.release();
      this.output.commit();
      return written;
    } catch (error) {
      this.abort();
      if (error instanceof PanicDriftError) throw error;
      throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${this.output.target}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  /** Drops everything; an existing output stays untouched. */
  abort(): void {
    this.release();
    this.output.abort();
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
    }
  }
}

/**
 * Moves one column of an Arrow batch into a DuckDB data chunk. Fixed-width
 * values and the validity bitmap (Arrow's and DuckDB's are the same LSB-first
 * bits) are copied in bulk; strings go as their UTF-8 bytes, never decoded.
 */
function fillColumn(
  chunk: DuckDBDataChunk,
  index: number,
  name: StoredColumn,
  data: Data,
  start: number,
  rows: number,
  dictionary: DictionaryColumn | undefined,
): void {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, index);
  if (dictionary !== undefined) {
    const indices = dictionary.globalIndices(data as Data<Dictionary<Utf8>>, start, rows);
    duckdb.copy_data_to_vector(vector, 0, indices.buffer as ArrayBuffer, 0, indices.byteLength);
  } else if (STORAGE[name].typeId === VARCHAR.typeId) {
    const utf8 = data as Data<Utf8>;
    const offsets = utf8.valueOffsets;
    const bytes = utf8.values;
    for (let i = 0; i < rows; i++) {
      const row = start + i;
      if (utf8.getValid(row)) duckdb.vector_assign_string_element_len(vector, i, bytes.subarray(offsets[row]!, offsets[row + 1]!));
    }
  } else {
    // Fixed width (UUID bytes, int64, timestamps, double): one copy.
    const values = data.values as ArrayBufferView;
    const width = values.byteLength / data.length;
    duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * width, rows * width);
  }
  copyValidity(vector, data, start, rows);
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
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
