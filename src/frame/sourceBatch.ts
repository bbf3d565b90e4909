import {
  Dictionary,
  FixedSizeBinary,
  makeVector,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  Uint8,
  Utf8,
  makeData,
  type Data,
} from "./arrow.js";
import { VectorStatus } from "./vectorStatus.js";
import { FRAME_COLUMNS, type FrameColumn } from "./frameColumns.js";
import { nullableData, nullBitmap, utf8Data } from "./arrowColumns.js";
import { RUN_COLUMNS, runColumnType, type RunTable } from "./runTable.js";
import { writeUuid } from "./uuidBytes.js";
import { hyphenateUuid } from "./uuidText.js";

/**
 * The Arrow record batch every source hands to the kernel: the output
 * frame's columns (as upstream's cache names them; see BATCH_FRAME_COLUMNS
 * for how they are encoded) plus three internal ones, the vector as
 * FixedSizeList<Float32>, why a vector is missing, and the key of the row's
 * (initial_prompt, embedding_model) pair. All vectors in one batch share one
 * dimension; sources keep one open batch per dimension.
 */
export { FRAME_COLUMNS, type FrameColumn } from "./frameColumns.js";

/** Id columns: 16 UUID bytes, or (for ids that are not lowercase UUIDs) the text in `<name>_other`. */
export const UUID_COLUMNS = ["id", "invocation_id"] as const;
type UuidColumn = (typeof UUID_COLUMNS)[number];
/** Per-embedding columns with few distinct values: dictionary-encoded per batch. */
export const MODEL_COLUMNS = ["embedding_model", "text_model"] as const;
type ModelColumn = (typeof MODEL_COLUMNS)[number];

/**
 * How the frame's columns travel in a batch. Ids as UUID bytes, models and
 * run columns as dictionaries: they are what costs, per row, to build, to
 * move between threads and to hand to DuckDB. The sink turns them back into
 * the frame's text columns.
 */
export type BatchFrameColumn = FrameColumn | `${UuidColumn}_other`;
export const BATCH_FRAME_COLUMNS: readonly BatchFrameColumn[] = FRAME_COLUMNS.flatMap((c): BatchFrameColumn[] =>
  (UUID_COLUMNS as readonly string[]).includes(c) ? [c, `${c as UuidColumn}_other`] : [c],
);

const MODEL_DICTIONARY_ID: Readonly<Record<ModelColumn, number>> = { embedding_model: 5, text_model: 6 };
export function modelColumnType(column: ModelColumn): Dictionary<Utf8, Int32> {
  return new Dictionary(new Utf8(), new Int32(), MODEL_DICTIONARY_ID[column]);
}

export interface SourceRow {
  /** Text, or the id already as frame/uuidBytes.ts's four words (read once, at push). */
  id: string | Uint32Array;
  invocation_id: string | Uint32Array;
  embedding_model: string;
  /** Microseconds since the epoch, naive UTC (a number when exact, i.e. below 2^53). */
  started_at: number | bigint | null;
  completed_at: number | bigint | null;
  /** Index of the row's run in the source's RunTable. */
  run_index: number;
  sequence_number: number;
  text_model: string | null;
  /** Text, or well-formed UTF-8 bytes of it (copied as they are, at push). */
  text: string | Utf8Slice | null;
}

/** Bytes [start, end) of `source`: text already encoded as well-formed UTF-8. */
export interface Utf8Slice {
  source: Uint8Array;
  start: number;
  end: number;
}

export function sourceBatchSchema(dimension: number): Schema {
  return new Schema([
    new Field("id", new FixedSizeBinary(16), true),
    new Field("id_other", new Utf8(), true),
    new Field("invocation_id", new FixedSizeBinary(16), true),
    new Field("invocation_id_other", new Utf8(), true),
    new Field("embedding_model", modelColumnType("embedding_model"), false),
    new Field("started_at", new TimestampMicrosecond(), true),
    new Field("completed_at", new TimestampMicrosecond(), true),
    new Field("run_id", runColumnType("run_id"), false),
    new Field("sequence_number", new Int64(), false),
    new Field("text_model", modelColumnType("text_model"), true),
    new Field("text", new Utf8(), true),
    new Field("initial_prompt", runColumnType("initial_prompt"), false),
    new Field("network", runColumnType("network"), true),
    new Field("experiment_id", runColumnType("experiment_id"), true),
    new Field("reference_key", new Int32(), false),
    new Field("vector_status", new Uint8(), false),
    new Field("vector", new FixedSizeList(dimension, new Field("item", new Float32(), false)), true),
  ]);
}

/** Accumulates rows of one vector dimension and turns them into a RecordBatch. */
export class SourceBatchBuilder {
  readonly dimension: number;
  readonly capacity: number;
  // The text as UTF-8 from the start: no string per row lives until the batch is done (fewer survivors per scavenge).
  private textBytes: Uint8Array;
  private readonly textOffsets: Int32Array;
  private readonly textValid: Uint8Array;
  private readonly uuids: Record<UuidColumn, UuidTarget>;
  private readonly models: Record<ModelColumn, ModelTarget>;
  private readonly startedAt: BigInt64Array;
  private readonly completedAt: BigInt64Array;
  private readonly timeValid: [Uint8Array, Uint8Array];
  private readonly sequence: BigInt64Array;
  private readonly runIndex: Int32Array;
  private readonly referenceKey: Int32Array;
  private readonly status: Uint8Array;
  private readonly vectorBytes: Uint8Array;
  // Int64 columns written as two int32 halves: no bigint per row on the hot path.
  private readonly startedAt32: Int32Array;
  private readonly completedAt32: Int32Array;
  private readonly sequence32: Int32Array;
  private count = 0;

  /**
   * `vectorBuffer`, when given, is reused for the floats (it must hold
   * capacity × dimension float32s and be free: see BatchesByDimension).
   */
  constructor(
    dimension: number,
    capacity: number,
    private readonly runs: RunTable,
    vectorBuffer?: Uint8Array,
  ) {
    this.dimension = dimension;
    this.capacity = capacity;
    this.textBytes = new Uint8Array(capacity * 64);
    this.textOffsets = new Int32Array(capacity + 1);
    this.textValid = new Uint8Array(capacity);
    const uuid = () => ({ words: new Uint32Array(capacity * 4), valid: new Uint8Array(capacity), other: [] as (string | null)[] });
    this.uuids = { id: uuid(), invocation_id: uuid() };
    const model = () => ({ index: new Map<string, number>(), values: [] as string[], indices: new Int32Array(capacity), valid: new Uint8Array(capacity) });
    this.models = { embedding_model: model(), text_model: model() };
    this.startedAt = new BigInt64Array(capacity);
    this.completedAt = new BigInt64Array(capacity);
    this.timeValid = [new Uint8Array(capacity), new Uint8Array(capacity)];
    this.sequence = new BigInt64Array(capacity);
    this.runIndex = new Int32Array(capacity);
    this.referenceKey = new Int32Array(capacity);
    this.status = new Uint8Array(capacity);
    // One contiguous float32 buffer: the kernel reads it as a flat Float32Array.
    this.vectorBytes = vectorBuffer ?? new Uint8Array(capacity * dimension * 4);
    this.startedAt32 = new Int32Array(this.startedAt.buffer);
    this.completedAt32 = new Int32Array(this.completedAt.buffer);
    this.sequence32 = new Int32Array(this.sequence.buffer);
  }

  /** The float buffer, to be handed to the next builder once this batch's vectors are used. */
  get vectorBuffer(): Uint8Array {
    return this.vectorBytes;
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /**
   * Adds one row. `blob` must be `dimension * 4` bytes when `status` is ok;
   * it is copied once, into the batch's vector buffer.
   */
  push(row: SourceRow, referenceKey: number, status: VectorStatus, blob: Uint8Array | null): void {
    const i = this.count++;
    this.pushText(i, row.text);
    // Column by column, not in a loop over column names: each access then sees one shape.
    pushUuid(this.uuids.id, i, row.id);
    pushUuid(this.uuids.invocation_id, i, row.invocation_id);
    pushModel(this.models.embedding_model, i, row.embedding_model);
    pushModel(this.models.text_model, i, row.text_model);
    this.timeValid[0][i] = setInt64(this.startedAt, this.startedAt32, i, row.started_at);
    this.timeValid[1][i] = setInt64(this.completedAt, this.completedAt32, i, row.completed_at);
    setInt64(this.sequence, this.sequence32, i, row.sequence_number);
    this.runIndex[i] = row.run_index;
    this.referenceKey[i] = referenceKey;
    this.status[i] = status;
    if (status === VectorStatus.ok && blob !== null) {
      this.vectorBytes.set(blob, i * this.dimension * 4);
    }
  }

  private pushText(i: number, text: string | Utf8Slice | null): void {
    let at = this.textOffsets[i]!;
    if (text !== null && typeof text !== "string") {
      this.textValid[i] = 1;
      const size = text.end - text.start;
      if (at + size > this.textBytes.length) this.growText(at, size);
      // Byte by byte: most texts are short, and a subarray per row would cost more than the copy.
      const { source, start } = text;
      const bytes = this.textBytes;
      for (let k = 0; k < size; k++) bytes[at + k] = source[start + k]!;
      at += size;
    } else if (text !== null) {
      this.textValid[i] = 1;
      // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
      if (at + text.length * 3 > this.textBytes.length) this.growText(at, text.length * 3);
      at += encoder.encodeInto(text, this.textBytes.subarray(at)).written;
    }
    this.textOffsets[i + 1] = at;
  }

  /** Room for `more` bytes after the first `used` of the text buffer. */
  private growText(used: number, more: number): void {
    const grown = new Uint8Array(Math.max(this.textBytes.length * 2, used + more));
    grown.set(this.textBytes.subarray(0, used));
    this.textBytes = grown;
  }

  /** The rows so far as one RecordBatch; the builder is spent afterwards. */
  finish(): RecordBatch {
    const n = this.count;
    const dim = this.dimension;
    const schema = sourceBatchSchema(dim);
    const vectorValid = okRows(this.status, n);
    const floats = new Float32Array(this.vectorBytes.buffer, 0, n * dim);
    const vectorType = schema.fields.find((f) => f.name === "vector")!.type as FixedSizeList<Float32>;
    const columns: Record<string, Data> = {};
    const textNulls = nullBitmap(this.textValid.subarray(0, n));
    columns.text = makeData({
      type: new Utf8(),
      length: n,
      nullCount: textNulls.nullCount,
      nullBitmap: textNulls.bitmap,
      valueOffsets: this.textOffsets.subarray(0, n + 1),
      data: this.textBytes.subarray(0, this.textOffsets[n]),
    });
    for (const column of UUID_COLUMNS) {
      const { words, valid, other } = this.uuids[column];
      const nulls = nullBitmap(valid.subarray(0, n));
      columns[column] = makeData({
        type: new FixedSizeBinary(16),
        length: n,
        nullCount: nulls.nullCount,
        nullBitmap: nulls.bitmap,
        data: new Uint8Array(words.buffer, 0, n * 16),
      });
      columns[`${column}_other`] = utf8Data(other);
    }
    for (const column of MODEL_COLUMNS) {
      const { values, indices, valid } = this.models[column];
      const nulls = nullBitmap(valid.subarray(0, n));
      columns[column] = makeData({
        type: modelColumnType(column),
        length: n,
        nullCount: nulls.nullCount,
        nullBitmap: nulls.bitmap,
        data: indices.subarray(0, n),
        dictionary: makeVector(utf8Data(values)),
      });
    }
    columns.started_at = nullableData(new TimestampMicrosecond(), this.startedAt.subarray(0, n), this.timeValid[0].subarray(0, n));
    columns.completed_at = nullableData(new TimestampMicrosecond(), this.completedAt.subarray(0, n), this.timeValid[1].subarray(0, n));
    const runIndex = this.runIndex.subarray(0, n);
    for (const column of RUN_COLUMNS) {
      const dictionary = this.runs.dictionary(column);
      // A NULL run value (a run without experiment) stays NULL through its dictionary entry.
      columns[column] = makeData({ type: runColumnType(column), length: n, data: runIndex, dictionary });
    }
    columns.sequence_number = makeData({ type: new Int64(), length: n, data: this.sequence.subarray(0, n) });
    columns.reference_key = makeData({ type: new Int32(), length: n, data: this.referenceKey.subarray(0, n) });
    columns.vector_status = makeData({ type: new Uint8(), length: n, data: this.status.subarray(0, n) });
    const vectorNulls = nullBitmap(vectorValid);
    columns.vector = makeData({
      type: vectorType,
      length: n,
      nullCount: vectorNulls.nullCount,
      nullBitmap: vectorNulls.bitmap,
      child: makeData({ type: new Float32(), length: n * dim, data: floats }),
    });
    const children = schema.fields.map((f) => columns[f.name]!);
    const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
    return new RecordBatch(schema, struct);
  }
}


interface UuidTarget {
  words: Uint32Array;
  valid: Uint8Array;
  other: (string | null)[];
}

interface ModelTarget {
  index: Map<string, number>;
  values: string[];
  indices: Int32Array;
  valid: Uint8Array;
}

/** 1 for each of the first `n` rows whose vector is usable. */
function okRows(status: Uint8Array, n: number): Uint8Array {
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) valid[i] = status[i] === VectorStatus.ok ? 1 : 0;
  return valid;
}

function pushUuid(target: UuidTarget, i: number, value: string | Uint32Array): void {
  if (typeof value !== "string") {
    target.words.set(value, i * 4);
    target.valid[i] = 1;
    target.other.push(null);
  } else if (writeUuid(value, target.words, i)) {
    target.valid[i] = 1;
    target.other.push(null);
  } else {
    target.other.push(hyphenateUuid(value));
  }
}

function pushModel(target: ModelTarget, i: number, value: string | null): void {
  if (value === null) return;
  let index = target.index.get(value);
  if (index === undefined) {
    index = target.values.length;
    target.values.push(value);
    target.index.set(value, index);
  }
  target.indices[i] = index;
  target.valid[i] = 1;
}

const TWO_32 = 4294967296;
const encoder = new TextEncoder();

/** Stores an int64 at row i (1) or marks it NULL (0); numbers must be exact integers. */
function setInt64(wide: BigInt64Array, halves: Int32Array, i: number, value: number | bigint | null): 0 | 1 {
  if (value === null) {
    wide[i] = 0n;
    return 0;
  }
  if (typeof value === "bigint") {
    wide[i] = value;
    return 1;
  }
  // Little-endian halves; exact for |value| ≤ 2^53.
  const high = Math.floor(value / TWO_32);
  halves[2 * i] = value - high * TWO_32;
  halves[2 * i + 1] = high;
  return 1;
}
