/**
 * The drifted batches as DuckDB's table function panic_drift_frame(), which
 * the sink's COPY reads: the columns it hands DuckDB, and the copy of each
 * Arrow column into DuckDB's data chunks as DuckDB pulls them.
 */
import type duckdb from "@duckdb/node-bindings";
import type { DuckDBConnection, DuckDBDataChunk, DuckDBType } from "@duckdb/node-api";
import type { Data, Utf8 } from "apache-arrow";
import type { DriftedBatch, DriftedBatches } from "../frame/driftedBatch.js";
import { throwIfInterrupted } from "../common/interruptCleanup.js";
import { duckdbApi, duckdbBindings } from "../common/duckdb.js";

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

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/**
 * Registers panic_drift_frame() on `connection`, reading `stream`;
 * `onBatch` is called after each batch. What the stream throws fails the
 * query and goes to `onStreamError` too: DuckDB keeps only its message.
 */
export function registerFrameScan(
  connection: DuckDBConnection,
  stream: DriftedBatches,
  onBatch: (() => void) | undefined,
  signal: AbortSignal | undefined,
  onStreamError: (error: unknown) => void,
): void {
  const frame = new FrameScan(stream, onBatch, signal);
  connection.registerTableFunction(
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
          onStreamError(error);
          throw error;
        }
      },
    }),
  );
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
  // A RecordBatch's columns are typed Data<any>: the batch's schema is the source's.
  const data = batch.getChild(name)?.data[0] as Data | undefined;
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
    const indices = data.values as Int32Array;
    for (let i = 0; i < rows; i++) {
      const value = data.getValid(start + i) ? values[indices[start + i]!] : null;
      if (value != null) duckdbBindings.vector_assign_string_element_len(vector, i, value);
    }
    copyValidity(vector, data, start, rows);
  } else if (type.typeId === VARCHAR.typeId) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < rows; i++) {
      const row = start + i;
      if (data.getValid(row)) duckdbBindings.vector_assign_string_element_len(vector, i, bytes.subarray(offsets[row], offsets[row + 1]));
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
  // Arrow types the bitmap as always there, but a column may come without one.
  const bitmap = data.nullBitmap as Uint8Array | null | undefined;
  if ((start & 7) === 0 && data.offset === 0 && bitmap) {
    mask.set(bitmap.subarray(start >> 3, (start + rows + 7) >> 3));
    // Bits past the last row of a partial byte belong to the next chunk: clear them.
    if (rows & 7) mask[rows >> 3]! &= (1 << (rows & 7)) - 1;
  } else {
    for (let i = 0; i < rows; i++) if (data.getValid(start + i)) mask[i >> 3]! |= 1 << (i & 7);
  }
  duckdbBindings.vector_ensure_validity_writable(vector);
  duckdbBindings.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
}
