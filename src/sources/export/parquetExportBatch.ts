import { Float32, type FixedSizeList, makeData, makeVector, RecordBatch, Struct, Utf8, type Data, type Dictionary } from "../../frame/arrow.js";
import { RUN_COLUMNS, type RunColumn, type RunTable } from "../../frame/runTable.js";
import { sourceBatchSchema } from "../../frame/sourceBatch.js";

/**
 * A source batch (sourceBatch.ts) as the DuckDB thread of a parquet export
 * posts it: every column's Arrow buffers, moved (transferred), vectors
 * included. Run columns travel as their run indices only (both threads hold
 * the same runs in the same order), model columns with their own small
 * dictionary.
 */
interface BuffersMessage {
  length: number;
  nullCount: number;
  nullBitmap?: Uint8Array | undefined;
  values?: ArrayBufferView | undefined;
  valueOffsets?: Int32Array | undefined;
}

interface ColumnMessage extends BuffersMessage {
  name: string;
  /** A model column's dictionary (Utf8). */
  dictionary?: BuffersMessage;
  /** The vector column's float32 child. */
  child?: BuffersMessage;
}

export interface SourceBatchMessage {
  dimension: number;
  length: number;
  columns: ColumnMessage[];
}

function buffers(data: Data): BuffersMessage {
  return {
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullCount > 0 ? (data.nullBitmap ?? undefined) : undefined,
    values: (data.values as ArrayBufferView | undefined) ?? undefined,
    valueOffsets: (data.valueOffsets as Int32Array | undefined) ?? undefined,
  };
}

/** The message and the buffers to move with it; the batch must not be used afterwards. */
export function toSourceBatchMessage(batch: RecordBatch): { message: SourceBatchMessage; transfer: ArrayBuffer[] } {
  const vector = batch.getChild("vector")!.data[0]!;
  const dimension = (vector.type as FixedSizeList).listSize;
  const columns: ColumnMessage[] = batch.schema.fields.map((field) => {
    const data = batch.getChild(field.name)!.data[0]!;
    if ((RUN_COLUMNS as readonly string[]).includes(field.name)) return { name: field.name, length: data.length, nullCount: 0, values: data.values as Int32Array };
    const column: ColumnMessage = { name: field.name, ...buffers(data) };
    if (data.dictionary !== undefined) column.dictionary = buffers(data.dictionary.data[0]!);
    if (field.name === "vector") column.child = buffers(data.children[0]!);
    return column;
  });
  const transfer = new Set<ArrayBuffer>();
  for (const column of columns) {
    for (const part of [column, column.dictionary, column.child]) {
      if (part === undefined) continue;
      for (const view of [part.values, part.valueOffsets, part.nullBitmap]) if (view !== undefined) transfer.add(view.buffer as ArrayBuffer);
    }
  }
  return { message: { dimension, length: batch.numRows, columns }, transfer: [...transfer] };
}

/**
 * The batch again, its run columns over `runs` (the same runs as the
 * sender's) and its reference keys translated by `keys` (the sender's key →
 * the receiver's), in place.
 */
export function fromSourceBatchMessage(message: SourceBatchMessage, runs: RunTable, keys: readonly number[]): RecordBatch {
  const schema = sourceBatchSchema(message.dimension);
  const byName = new Map(message.columns.map((c) => [c.name, c]));
  const children = schema.fields.map((field) => {
    const column = byName.get(field.name);
    if (column === undefined) throw new Error(`source batch message lacks column ${field.name}`);
    if ((RUN_COLUMNS as readonly string[]).includes(field.name)) {
      const name = field.name as RunColumn;
      return makeData({ type: field.type as Dictionary<Utf8>, length: column.length, data: column.values as Int32Array, dictionary: runs.dictionary(name) });
    }
    if (field.name === "reference_key") {
      const local = column.values as Int32Array;
      for (let i = 0; i < local.length; i++) local[i] = keys[local[i]!]!;
    }
    if (column.dictionary !== undefined) {
      const dictionary = makeData({ type: new Utf8(), ...props(column.dictionary) });
      return makeData({ type: field.type as Dictionary<Utf8>, ...props(column), dictionary: makeVector(dictionary) });
    }
    if (column.child !== undefined) {
      const child = makeData({ type: new Float32(), length: column.child.length, data: column.child.values as Float32Array });
      return makeData({ type: field.type as FixedSizeList<Float32>, length: column.length, nullCount: column.nullCount, nullBitmap: column.nullBitmap, child });
    }
    return (makeData as (p: object) => Data)({ type: field.type, ...props(column) });
  });
  const struct = makeData({ type: new Struct(schema.fields), length: message.length, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

function props(part: BuffersMessage): { length: number; nullCount: number; nullBitmap: Uint8Array | undefined; data: never; valueOffsets: never } {
  return {
    length: part.length,
    nullCount: part.nullCount,
    nullBitmap: part.nullBitmap,
    data: part.values as never,
    valueOffsets: part.valueOffsets as never,
  };
}
