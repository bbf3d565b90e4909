/**
 * Columns of a DuckDB data chunk, read in bulk from its vectors' memory:
 * no value is built per row but what the row needs, and a vector's floats
 * stay bytes (a view of the chunk) on their way into a batch.
 */
import type duckdb from "@duckdb/node-bindings";
import { duckdbBindings } from "../../common/duckdb.js";

/** One column of a fetched chunk, read in bulk. */
export class StringColumn {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly bytes: Buffer;
  private readonly validity: Uint8Array | null;

  constructor(vector: duckdb.Vector, rows: number) {
    this.data = duckdbBindings.vector_get_data(vector, rows * 16);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.bytes = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  }

  get(row: number): string | null {
    if (!isValid(this.validity, row)) return null;
    const at = row * 16;
    const length = this.view.getUint32(at, true);
    // DuckDB's string_t: up to 12 bytes inline, otherwise a pointer to them.
    if (length <= 12) return this.bytes.toString("utf8", at + 4, at + 4 + length);
    const bytes = duckdbBindings.get_data_from_pointer(this.data.buffer as ArrayBuffer, this.data.byteOffset + at + 8, length);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
}

/** A BIGINT column as numbers (exact below 2^53: timestamps in µs, sequence numbers). */
export class BigIntColumn {
  private readonly halves: Int32Array;
  private readonly validity: Uint8Array | null;

  constructor(vector: duckdb.Vector, rows: number) {
    const data = duckdbBindings.vector_get_data(vector, rows * 8);
    this.halves = new Int32Array(data.buffer, data.byteOffset, rows * 2);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  }

  get(row: number): number | null {
    if (!isValid(this.validity, row)) return null;
    return this.halves[2 * row + 1]! * 4294967296 + (this.halves[2 * row]! >>> 0);
  }
}

function isValid(validity: Uint8Array | null, row: number): boolean {
  return validity === null || ((validity[row >> 3]! >> (row & 7)) & 1) === 1;
}

/** A LIST<FLOAT> column: each row's floats as a view of the chunk's child bytes. */
export class FloatListColumn {
  private readonly entries: Uint32Array;
  private readonly validity: Uint8Array | null;
  private readonly floats: Uint8Array;
  private readonly childValidity: Uint8Array | null;
  private scratch = new Float32Array(0);

  constructor(vector: duckdb.Vector, rows: number) {
    const entries = duckdbBindings.vector_get_data(vector, rows * 16);
    this.entries = new Uint32Array(entries.buffer, entries.byteOffset, rows * 4);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
    const size = duckdbBindings.list_vector_get_size(vector);
    const child = duckdbBindings.list_vector_get_child(vector);
    this.floats = size === 0 ? new Uint8Array(0) : duckdbBindings.vector_get_data(child, size * 4);
    this.childValidity = size === 0 ? null : duckdbBindings.vector_get_validity(child, Math.ceil(size / 64) * 8);
  }

  /** The row's floats as bytes, or null for a NULL list. A NULL element becomes NaN (the row's drift is then NULL: non_finite). */
  get(row: number): Uint8Array | null {
    if (!isValid(this.validity, row)) return null;
    const offset = this.entries[4 * row]! + this.entries[4 * row + 1]! * 4294967296;
    const length = this.entries[4 * row + 2]!;
    const bytes = this.floats.subarray(offset * 4, (offset + length) * 4);
    if (this.childValidity === null) return bytes;
    let copied: Float32Array | undefined;
    for (let k = 0; k < length; k++) {
      if (isValid(this.childValidity, offset + k)) continue;
      if (copied === undefined) {
        if (this.scratch.length < length) this.scratch = new Float32Array(length);
        copied = this.scratch.subarray(0, length);
        new Uint8Array(copied.buffer, 0, length * 4).set(bytes);
      }
      copied[k] = NaN;
    }
    return copied === undefined ? bytes : new Uint8Array(copied.buffer, 0, length * 4);
  }
}

/** An INTEGER column as it is in the chunk. */
export function int32Column(vector: duckdb.Vector, rows: number): Int32Array {
  const data = duckdbBindings.vector_get_data(vector, rows * 4);
  return new Int32Array(data.buffer, data.byteOffset, rows);
}
