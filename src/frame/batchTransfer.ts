import {
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  type Data,
  type DataType,
} from "./arrow.js";
import type { DriftedBatch } from "./driftedBatch.js";
import { RUN_COLUMNS, runColumnType, type RunColumn, type RunTable } from "./runTable.js";
import { BATCH_FRAME_COLUMNS, sourceBatchSchema } from "./sourceBatch.js";

/**
 * The one codec for moving Arrow record batches between threads: each
 * column's raw buffers, moved (transferred), never copied or re-encoded.
 * Types do not travel (Arrow's type objects do not survive structured
 * cloning): the receiver knows the schema. Run columns travel as their run
 * indices only, the receiver holding the same runs in the same order; other
 * dictionary columns (the models) with their own small dictionary, list
 * columns (the vector) with their child.
 */
interface Buffers {
  length: number;
  nullCount: number;
  nullBitmap?: Uint8Array | undefined;
  values?: ArrayBufferView | undefined;
  valueOffsets?: Int32Array | undefined;
  dictionary?: Buffers | undefined;
  child?: Buffers | undefined;
}

interface ColumnTransfer extends Buffers {
  name: string;
}

export interface BatchTransfer {
  length: number;
  columns: ColumnTransfer[];
}

function isRunColumn(name: string): name is RunColumn {
  return (RUN_COLUMNS as readonly string[]).includes(name);
}

const DataTypeIs = {
  fixedSizeList: (type: DataType): type is FixedSizeList => type instanceof FixedSizeList,
  dictionary: (type: DataType): type is Dictionary<DataType> => type instanceof Dictionary,
};

function buffersOf(data: Data<DataType>): Buffers {
  const buffers: Buffers = { length: data.length, nullCount: data.nullCount };
  if (data.nullCount > 0) buffers.nullBitmap = data.nullBitmap;
  if (data.values !== undefined) buffers.values = data.values as ArrayBufferView;
  if (data.valueOffsets !== undefined) buffers.valueOffsets = data.valueOffsets as Int32Array;
  if (data.dictionary !== undefined) buffers.dictionary = buffersOf(data.dictionary.data[0] as Data<DataType>);
  if (DataTypeIs.fixedSizeList(data.type)) buffers.child = buffersOf(data.children[0]!);
  return buffers;
}

/**
 * The message for `columns` (name and data, `length` rows) and the buffers
 * to transfer with it; the data must not be used afterwards.
 */
function toBatchTransfer(length: number, columns: readonly (readonly [string, Data<DataType>])[]): { message: BatchTransfer; transfer: ArrayBuffer[] } {
  const message: BatchTransfer = {
    length,
    columns: columns.map(([name, data]) =>
      isRunColumn(name) ? { name, length: data.length, nullCount: 0, values: data.values as Int32Array } : { name, ...buffersOf(data) },
    ),
  };
  const transfer = new Set<ArrayBuffer>();
  const collect = (part: Buffers | undefined): void => {
    if (part === undefined) return;
    for (const view of [part.values, part.valueOffsets, part.nullBitmap]) if (view !== undefined) transfer.add(view.buffer as ArrayBuffer);
    collect(part.dictionary);
    collect(part.child);
  };
  for (const column of message.columns) collect(column);
  return { message, transfer: [...transfer] };
}

/** The columns of `message` as Data of `fields`' types, in `fields`' order; run columns over `runs`. */
function fromBatchTransfer(message: BatchTransfer, fields: readonly Field<DataType>[], runs: RunTable): Data<DataType>[] {
  const byName = new Map(message.columns.map((c) => [c.name, c]));
  return fields.map((field) => {
    const column = byName.get(field.name);
    if (column === undefined) throw new Error(`batch message lacks column ${field.name}`);
    if (isRunColumn(field.name)) {
      return makeData({ type: runColumnType(field.name), length: column.length, data: column.values as Int32Array, dictionary: runs.dictionary(field.name) });
    }
    return dataOf(field.type, column);
  });
}

function dataOf(type: DataType, part: Buffers): Data<DataType> {
  if (DataTypeIs.dictionary(type)) {
    const dictionary = dataOf(type.dictionary, part.dictionary!);
    return makeData({ type, ...props(part), dictionary: makeVector(dictionary) });
  }
  if (DataTypeIs.fixedSizeList(type)) {
    const child = dataOf((type.children[0] as Field<DataType>).type, part.child!);
    return makeData({ type, length: part.length, nullCount: part.nullCount, nullBitmap: part.nullBitmap, child });
  }
  return (makeData as (p: object) => Data<DataType>)({ type, ...props(part) });
}

function props(part: Buffers): { length: number; nullCount: number; nullBitmap: Uint8Array | undefined; data: never; valueOffsets: never } {
  return {
    length: part.length,
    nullCount: part.nullCount,
    nullBitmap: part.nullBitmap,
    data: part.values as never,
    valueOffsets: part.valueOffsets as never,
  };
}

function recordBatch(schema: Schema, children: Data<DataType>[], length: number): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

// --- source batches (sourceBatch.ts), vectors included

/** A source batch as it travels: its vectors' dimension gives its schema. */
export interface SourceBatchTransfer {
  dimension: number;
  batch: BatchTransfer;
}

export function toSourceBatchTransfer(batch: RecordBatch): { message: SourceBatchTransfer; transfer: ArrayBuffer[] } {
  const vector = batch.getChild("vector")!.data[0]!.type as FixedSizeList;
  const fields = batch.schema.fields as Field<DataType>[];
  const { message, transfer } = toBatchTransfer(batch.numRows, fields.map((field) => [field.name, batch.getChild(field.name)!.data[0]!] as const));
  return { message: { dimension: vector.listSize, batch: message }, transfer };
}

/**
 * The source batch again, its run columns over `runs` (the same runs as the
 * sender's) and its reference keys translated by `keys` (the sender's key →
 * the receiver's), in place.
 */
export function fromSourceBatchTransfer(message: SourceBatchTransfer, runs: RunTable, keys: readonly number[]): RecordBatch {
  const referenceKeys = message.batch.columns.find((c) => c.name === "reference_key");
  if (referenceKeys !== undefined) {
    const local = referenceKeys.values as Int32Array;
    for (let i = 0; i < local.length; i++) local[i] = keys[local[i]!]!;
  }
  const schema = sourceBatchSchema(message.dimension);
  return recordBatch(schema, fromBatchTransfer(message.batch, schema.fields as Field<DataType>[], runs), message.batch.length);
}

// --- drifted batches: the frame's columns and the drift; the vectors stay with the sender (the sink does not need them)

const DRIFT_COLUMN = "semantic_drift";

/** The frame's columns as the receiver rebuilds them: the sources' types. */
const FRAME_SCHEMA = (() => {
  const types = new Map((sourceBatchSchema(1).fields as Field<DataType>[]).map((field) => [field.name, field.type]));
  return new Schema(BATCH_FRAME_COLUMNS.map((name) => new Field(name, types.get(name)!, true)));
})();
const DRIFTED_FIELDS = [...(FRAME_SCHEMA.fields as Field<DataType>[]), new Field(DRIFT_COLUMN, new Float64(), true)];

export function toDriftedBatchTransfer({ batch, drift }: DriftedBatch): { message: BatchTransfer; transfer: ArrayBuffer[] } {
  const columns = BATCH_FRAME_COLUMNS.map((name) => [name, batch.getChild(name)!.data[0]!] as const);
  return toBatchTransfer(batch.numRows, [...columns, [DRIFT_COLUMN, drift]]);
}

/** Rebuilds the batch; `runs` must be the run table of the same snapshot as the sender's. */
export function fromDriftedBatchTransfer(message: BatchTransfer, runs: RunTable): DriftedBatch {
  const children = fromBatchTransfer(message, DRIFTED_FIELDS, runs);
  const drift = children.pop() as Data<Float64>;
  return { batch: recordBatch(FRAME_SCHEMA, children, message.length), drift };
}
