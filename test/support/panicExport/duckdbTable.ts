/**
 * Writing one table to zstd parquet through DuckDB: rows appended chunk by
 * chunk with DuckDB's C API (lists copied as float bytes, so big exports are
 * quick), then COPYed out.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
import type { Cell, ColumnType } from "./columns.js";

/** DuckDB's standard vector size: one data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/** Fills a DuckDB table chunk by chunk, then COPYs it to zstd parquet; returns the rows written. */
export async function writeTable(
  connection: DuckDBConnection,
  path: string,
  name: string,
  columns: readonly (readonly [string, ColumnType])[],
  rows: Iterable<Cell[]>,
): Promise<number> {
  await connection.run(`CREATE OR REPLACE TABLE "${name}" (${columns.map(([c, t]) => `"${c}" ${t}`).join(", ")})`);
  // The high-level API has no chunk appender: reach the raw connection underneath.
  const raw = (connection as unknown as { connection: duckdb.Connection }).connection;
  const appender = duckdb.appender_create(raw, null, name);
  const types = columns.map((_, i) => duckdb.appender_column_type(appender, i));
  let count = 0;
  let slice: Cell[][] = [];
  const append = () => {
    const chunk = duckdb.create_data_chunk(types);
    duckdb.data_chunk_set_size(chunk, slice.length);
    columns.forEach(([, type], c) => { fillVector(duckdb.data_chunk_get_vector(chunk, c), type, slice.map((r) => r[c] ?? null)); });
    duckdb.append_data_chunk(appender, chunk);
    count += slice.length;
    slice = [];
  };
  for (const row of rows) {
    slice.push(row);
    if (slice.length === CHUNK_ROWS) append();
  }
  if (slice.length > 0) append();
  duckdb.appender_close_sync(appender);
  const quoted = path.replaceAll("'", "''");
  await connection.run(`COPY "${name}" TO '${quoted}' (FORMAT parquet, COMPRESSION zstd)`);
  await connection.run(`DROP TABLE "${name}"`);
  return count;
}

/** A validity mask of n rows, all invalid (NULL) until set: whole 64-bit words, as DuckDB reads it. */
const validityMask = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(Math.ceil(n / 64) * 8);
const setValid = (mask: Uint8Array, i: number) => (mask[i >> 3]! |= 1 << (i & 7));

function fillVector(vector: duckdb.Vector, type: ColumnType, values: Cell[]): void {
  const valid = validityMask(values.length);
  if (type === "VARCHAR") fillStrings(vector, values, valid);
  else if (type === "BIGINT" || type === "DOUBLE") fillNumbers(vector, type, values, valid);
  else fillLists(vector, type, values, valid);
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, valid.buffer, 0, valid.byteLength);
}

function fillStrings(vector: duckdb.Vector, values: Cell[], valid: Uint8Array): void {
  values.forEach((v, i) => {
    if (v === null) return;
    duckdb.vector_assign_string_element(vector, i, String(v));
    setValid(valid, i);
  });
}

function fillNumbers(vector: duckdb.Vector, type: "BIGINT" | "DOUBLE", values: Cell[], valid: Uint8Array): void {
  const n = values.length;
  const data = type === "BIGINT" ? new BigInt64Array(n) : new Float64Array(n);
  values.forEach((v, i) => {
    if (v === null) return;
    if (data instanceof BigInt64Array) data[i] = BigInt(v as number);
    else data[i] = Number(v);
    setValid(valid, i);
  });
  duckdb.copy_data_to_vector(vector, 0, data.buffer, 0, data.byteLength);
}

/** List columns: (offset, length) entries in the list vector, the elements in its child, NULL elements in the child's mask. */
function fillLists(vector: duckdb.Vector, type: "FLOAT[]" | "DOUBLE[]", values: Cell[], valid: Uint8Array): void {
  const n = values.length;
  const entries = new BigUint64Array(2 * n);
  let total = 0;
  values.forEach((v, i) => {
    const length = v === null ? 0 : (v as ArrayLike<number | null>).length;
    entries[2 * i] = BigInt(total);
    entries[2 * i + 1] = BigInt(length);
    total += length;
  });
  const floats = type === "FLOAT[]" ? new Float32Array(total) : new Float64Array(total);
  const childValid = validityMask(total).fill(0xff);
  let childNulls = false;
  for (let i = 0; i < n; i++) {
    const v = values[i] as Cell;
    if (v === null) continue;
    setValid(valid, i);
    const at = Number(entries[2 * i]);
    if (v instanceof Float32Array) {
      floats.set(v, at);
      continue;
    }
    const list = v as (number | null)[];
    for (let k = 0; k < list.length; k++) {
      const x = list[k] as number | null;
      if (x !== null) floats[at + k] = x;
      else {
        childValid[(at + k) >> 3]! &= ~(1 << ((at + k) & 7));
        childNulls = true;
      }
    }
  }
  duckdb.list_vector_reserve(vector, total);
  duckdb.list_vector_set_size(vector, total);
  duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
  const child = duckdb.list_vector_get_child(vector);
  if (total > 0) duckdb.copy_data_to_vector(child, 0, floats.buffer, 0, floats.byteLength);
  if (childNulls) {
    duckdb.vector_ensure_validity_writable(child);
    duckdb.copy_data_to_vector_validity(child, 0, childValid.buffer, 0, childValid.byteLength);
  }
}
