import {
  Dictionary,
  FixedSizeBinary,
  makeVector,
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from "../frame/arrow.js";
import type { DriftedBatch } from "../frame/driftedBatch.js";
import { BATCH_FRAME_COLUMNS, modelColumnType, type MODEL_COLUMNS } from "../frame/sourceBatch.js";
import { RUN_COLUMNS, runColumnType, type RunColumn, type RunTable } from "../frame/runTable.js";

type ModelColumn = (typeof MODEL_COLUMNS)[number];

/**
 * A drifted batch as a worker posts it: the frame's columns and the drift,
 * each as its raw Arrow buffers, moved (transferred), never copied or
 * re-encoded. The vectors stay in the worker: the sink does not need them.
 */
type Kind = "utf8" | "int64" | "timestamp" | "float64" | "uuid" | "run" | "model";

interface ColumnMessage {
  name: string;
  kind: Kind;
  length: number;
  nullCount: number;
  nullBitmap?: Uint8Array;
  values: ArrayBufferView;
  valueOffsets?: Int32Array;
  /** A model column's own (small) dictionary. */
  dictionary?: ColumnMessage;
}

export interface BatchMessage {
  columns: ColumnMessage[];
}

function kindOf(type: DataType, name: string): Kind {
  // Run columns: only the indices travel; the receiver has the same run table.
  if (type instanceof Dictionary) return (RUN_COLUMNS as readonly string[]).includes(name) ? "run" : "model";
  if (type instanceof FixedSizeBinary) return "uuid";
  if (type instanceof Utf8) return "utf8";
  if (type instanceof TimestampMicrosecond) return "timestamp";
  if (type instanceof Int64) return "int64";
  if (type instanceof Float64) return "float64";
  throw new Error(`cannot post a column of type ${String(type)}`);
}

function typeOf(kind: Exclude<Kind, "run" | "model">): DataType {
  switch (kind) {
    case "uuid":
      return new FixedSizeBinary(16);
    case "utf8":
      return new Utf8();
    case "timestamp":
      return new TimestampMicrosecond();
    case "int64":
      return new Int64();
    case "float64":
      return new Float64();
  }
}

function columnMessage(name: string, data: Data): ColumnMessage {
  return {
    name,
    kind: kindOf(data.type, name),
    length: data.length,
    nullCount: data.nullCount,
    ...(data.nullCount > 0 && data.nullBitmap ? { nullBitmap: data.nullBitmap } : {}),
    values: data.values as ArrayBufferView,
    ...(data.valueOffsets ? { valueOffsets: data.valueOffsets as Int32Array } : {}),
    ...(data.dictionary && !(RUN_COLUMNS as readonly string[]).includes(name)
      ? { dictionary: columnMessage(`${name}.dictionary`, data.dictionary.data[0]!) }
      : {}),
  };
}

/** The message and the buffers to transfer with it. */
export function toBatchMessage({ batch, drift }: DriftedBatch): { message: BatchMessage; transfer: ArrayBuffer[] } {
  const columns = BATCH_FRAME_COLUMNS.map((name) => columnMessage(name, batch.getChild(name)!.data[0]!));
  columns.push(columnMessage("semantic_drift", drift));
  const buffers = new Set<ArrayBuffer>();
  for (const c of columns) {
    for (const part of [c, c.dictionary]) {
      if (part === undefined) continue;
      for (const view of [part.values, part.valueOffsets, part.nullBitmap]) if (view) buffers.add(view.buffer as ArrayBuffer);
    }
  }
  return { message: { columns }, transfer: [...buffers] };
}

/** Rebuilds the batch; `runs` must be the run table of the same snapshot as the sender's. */
export function fromBatchMessage(message: BatchMessage, runs: RunTable): DriftedBatch {
  const frame = message.columns.filter((c) => c.name !== "semantic_drift");
  const driftColumn = message.columns.find((c) => c.name === "semantic_drift")!;
  const children = frame.map((c) => dataOf(c, runs));
  const fields = frame.map((c, i) => new Field(c.name, children[i]!.type, true));
  const length = children[0]?.length ?? 0;
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return { batch, drift: dataOf(driftColumn, runs) };
}

function dataOf(c: ColumnMessage, runs: RunTable): Data {
  if (c.kind === "run") {
    const column = c.name as RunColumn;
    return makeData({ type: runColumnType(column), length: c.length, data: c.values as Int32Array, dictionary: runs.dictionary(column) });
  }
  if (c.kind === "model") {
    return makeData({
      type: modelColumnType(c.name as ModelColumn),
      length: c.length,
      nullCount: c.nullCount,
      nullBitmap: c.nullBitmap,
      data: c.values as Int32Array,
      dictionary: makeVector(dataOf(c.dictionary!, runs) as Data<Utf8>),
    });
  }
  const props = {
    type: typeOf(c.kind),
    length: c.length,
    nullCount: c.nullCount,
    nullBitmap: c.nullBitmap,
    data: c.values,
    valueOffsets: c.valueOffsets,
  };
  return (makeData as (p: typeof props) => Data)(props);
}
