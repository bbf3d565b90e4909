// Gathering rows of same-typed Arrow columns into new columns (the output order's last step).
import { makeData, makeVector, Type, type Data, type Dictionary, type Utf8, type Vector } from "./arrow.js";
import { utf8Data } from "./arrowColumns.js";

/** UTF-8 byte order (DuckDB's VARCHAR order), which UTF-16 `<` is not for astral characters. */
export function compareUtf8(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}


/**
 * The distinct values of per-piece dictionaries, sorted; per piece, each
 * local index's rank among them.
 */
export function rankDictionaryValues(columns: readonly Data<Dictionary<Utf8>>[]): { values: (string | null)[]; byPiece: Int32Array[] } {
  const distinct = new Set<string | null>();
  for (const data of columns) for (const v of data.dictionary!) distinct.add(v);
  const values = [...distinct].sort((a, b) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : compareUtf8(a, b)));
  const rank = new Map(values.map((v, i) => [v, i]));
  const byPiece = columns.map((data) => Int32Array.from(data.dictionary!, (v) => rank.get(v)!));
  return { values, byPiece };
}

/**
 * Rows (pick[i], row[i]) of same-typed columns, as one new column. Each
 * kind of column has a small function of its own, which sees one kind of
 * array: one function for all kinds was recompiled by V8 over and over as
 * new kinds came by (~1 s of compiler time on 200k rows), and the Arrow
 * calls stay out of the loops for the same reason.
 */
export function gatherColumn(sources: readonly Data[], pick: Int32Array, row: Int32Array): Data {
  const n = pick.length;
  const first = sources[0]!;
  const type = first.type;
  const { valid, nulls } = gatherValidity(sources, pick, row);
  const bitmap = nulls === 0 ? undefined : packBits(valid);
  if (type.typeId === Type.Utf8) {
    // The bytes move as they are, never decoded.
    const { offsets, bytes } = gatherUtf8(
      sources.map((s) => s.valueOffsets as Int32Array),
      sources.map((s) => s.values as Uint8Array),
      pick,
      row,
    );
    return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data: bytes } as never);
  }
  if (type.typeId === Type.Dictionary) {
    const indices = sources.map((s) => s.values as Int32Array);
    const dictionary = first.dictionary!;
    if (sources.every((s) => s.dictionary === dictionary)) {
      // A shared dictionary (the run table's): the indices carry over.
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: gatherIndices(indices, pick, row), dictionary });
    }
    // Per-batch dictionaries (models): re-encode over their union.
    const { values, byPiece } = rankDictionaryValues(sources);
    const out = gatherRanks(indices, byPiece, valid, pick, row);
    return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: out, dictionary: makeVectorOf(values) });
  }
  // Fixed width (UUID bytes, int64, timestamps, doubles): copied as 32-bit words, bit for bit.
  const width = (first.values as ArrayBufferView).byteLength / first.length / 4;
  const views = sources.map((s) => {
    const v = s.values as ArrayBufferView;
    return new Int32Array(v.buffer, v.byteOffset, s.length * width);
  });
  const words = gatherWords(views, width, pick, row);
  const ArrayType = (first.values as { constructor: new (buffer: ArrayBuffer) => ArrayBufferView }).constructor;
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: new ArrayType(words.buffer as ArrayBuffer) } as never);
}

function gatherUtf8(offsetsOf: readonly Int32Array[], bytesOf: readonly Uint8Array[], pick: Int32Array, row: Int32Array): { offsets: Int32Array; bytes: Uint8Array } {
  const n = pick.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const from = offsetsOf[pick[i]!]!;
    offsets[i + 1] = offsets[i]! + from[row[i]! + 1]! - from[row[i]!]!;
  }
  const bytes = new Uint8Array(offsets[n]!);
  for (let i = 0; i < n; i++) {
    const from = offsetsOf[pick[i]!]!;
    const start = from[row[i]!]!;
    const end = from[row[i]! + 1]!;
    if (end > start) bytes.set(bytesOf[pick[i]!]!.subarray(start, end), offsets[i]);
  }
  return { offsets, bytes };
}

function gatherIndices(indices: readonly Int32Array[], pick: Int32Array, row: Int32Array): Int32Array {
  const out = new Int32Array(pick.length);
  for (let i = 0; i < pick.length; i++) out[i] = indices[pick[i]!]![row[i]!]!;
  return out;
}

function gatherRanks(indices: readonly Int32Array[], byPiece: readonly Int32Array[], valid: Uint8Array, pick: Int32Array, row: Int32Array): Int32Array {
  const out = new Int32Array(pick.length);
  for (let i = 0; i < pick.length; i++) if (valid[i]) out[i] = byPiece[pick[i]!]![indices[pick[i]!]![row[i]!]!]!;
  return out;
}

/** `width` 32-bit words per row. */
function gatherWords(views: readonly Int32Array[], width: number, pick: Int32Array, row: Int32Array): Int32Array {
  const n = pick.length;
  const words = new Int32Array(n * width);
  if (width === 4) {
    // UUIDs.
    for (let i = 0; i < n; i++) {
      const from = views[pick[i]!]!;
      const at = row[i]! * 4;
      words[4 * i] = from[at]!;
      words[4 * i + 1] = from[at + 1]!;
      words[4 * i + 2] = from[at + 2]!;
      words[4 * i + 3] = from[at + 3]!;
    }
  } else if (width === 2) {
    // int64, timestamps, doubles.
    for (let i = 0; i < n; i++) {
      const from = views[pick[i]!]!;
      const at = row[i]! * 2;
      words[2 * i] = from[at]!;
      words[2 * i + 1] = from[at + 1]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const from = views[pick[i]!]!;
      const at = row[i]! * width;
      for (let w = 0; w < width; w++) words[i * width + w] = from[at + w]!;
    }
  }
  return words;
}

/**
 * Which picked rows are valid (1) and how many are not. Read from the
 * sources' bitmaps directly: nothing to read when none has a NULL (the
 * usual case), and no per-row getValid call otherwise.
 */
function gatherValidity(sources: readonly Data[], pick: Int32Array, row: Int32Array): { valid: Uint8Array; nulls: number } {
  const n = pick.length;
  const valid = new Uint8Array(n).fill(1);
  if (sources.every((s) => s.nullCount === 0)) return { valid, nulls: 0 };
  const bitmaps = sources.map((s) => (s.nullCount === 0 ? undefined : s.nullBitmap));
  const offsets = sources.map((s) => s.offset);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const bitmap = bitmaps[pick[i]!];
    if (bitmap === undefined) continue;
    const bit = offsets[pick[i]!]! + row[i]!;
    if ((bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) {
      valid[i] = 0;
      nulls++;
    }
  }
  return { valid, nulls };
}

function packBits(valid: Uint8Array): Uint8Array {
  const bitmap = new Uint8Array((valid.length + 7) >> 3);
  for (let i = 0; i < valid.length; i++) if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
  return bitmap;
}

function makeVectorOf(values: (string | null)[]): Vector<Utf8> {
  return makeVector(utf8Data(values));
}
