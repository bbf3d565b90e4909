import {
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBAppender,
  type DuckDBConnection,
} from "@duckdb/node-api";
import type { Data, RecordBatch, Utf8 } from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PanicDriftError } from "../errors.js";
import { AtomicOutput } from "./atomicOutput.js";
import { OUTPUT_COLUMNS, OUTPUT_ORDER, OUTPUT_TYPES, type OutputColumn } from "./outputColumns.js";

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
      const columns = OUTPUT_COLUMNS.map((c) => `"${c}" ${OUTPUT_TYPES[c].toString()}`).join(", ");
      await connection.run(`CREATE TABLE frame (${columns})`);
      const appender = await connection.createAppender("frame");
      return new ParquetSink(output, instance, connection, appender, spillDir);
    } catch (error) {
      output.abort();
      rmSync(spillDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Appends the frame columns of `batch` with its computed drift column. */
  append(batch: RecordBatch, drift: Data): void {
    const n = batch.numRows;
    const columns = OUTPUT_COLUMNS.map((name) => (name === "semantic_drift" ? drift : batch.getChild(name)?.data[0]));
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      const chunk = DuckDBDataChunk.create(OUTPUT_COLUMNS.map((c) => OUTPUT_TYPES[c]), rows);
      OUTPUT_COLUMNS.forEach((name, index) => {
        const data = columns[index];
        if (data === undefined) throw new Error(`source batch lacks column ${name}`);
        fillColumn(chunk, index, name, data, start, rows);
      });
      this.appender.appendDataChunk(chunk);
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
      const kv = Object.entries(metadata)
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(", ");
      const order = OUTPUT_ORDER.map((c) => `"${c}"`).join(", ");
      const reader = await this.connection.runAndReadAll(
        `COPY (SELECT * FROM frame ORDER BY ${order}) TO ${sqlString(this.output.temporary)}
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

function fillColumn(chunk: DuckDBDataChunk, index: number, name: OutputColumn, data: Data, start: number, rows: number): void {
  const vector = chunk.getColumnVector(index) as unknown as { setItem(i: number, v: unknown): void; flush(): void };
  const valid = (i: number): boolean => data.getValid(start + i);
  switch (OUTPUT_TYPES[name].typeId) {
    case OUTPUT_TYPES.text.typeId: {
      const strings = utf8Slice(data as Data<Utf8>, start, rows);
      for (let i = 0; i < rows; i++) vector.setItem(i, strings[i]);
      break;
    }
    case OUTPUT_TYPES.started_at.typeId: {
      const values = data.values as BigInt64Array;
      for (let i = 0; i < rows; i++) vector.setItem(i, valid(i) ? new DuckDBTimestampValue(values[start + i]!) : null);
      break;
    }
    case OUTPUT_TYPES.sequence_number.typeId: {
      const values = data.values as BigInt64Array;
      for (let i = 0; i < rows; i++) vector.setItem(i, valid(i) ? values[start + i]! : null);
      break;
    }
    case OUTPUT_TYPES.semantic_drift.typeId: {
      const values = data.values as Float64Array;
      for (let i = 0; i < rows; i++) vector.setItem(i, valid(i) ? values[start + i]! : null);
      break;
    }
    default:
      throw new Error(`no writer for column ${name}`);
  }
  vector.flush();
}

/** Decodes a run of an Arrow Utf8 column straight from its buffers. */
function utf8Slice(data: Data<Utf8>, start: number, rows: number): (string | null)[] {
  const offsets = data.valueOffsets;
  const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
  const out = new Array<string | null>(rows);
  for (let i = 0; i < rows; i++) {
    const row = start + i;
    out[i] = data.getValid(row) ? bytes.toString("utf8", offsets[row]!, offsets[row + 1]!) : null;
  }
  return out;
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
