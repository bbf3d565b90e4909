import { makeData, Utf8, type Data, type Float64, type TimestampMicrosecond } from "./arrow.js";

/** Small builders of Arrow column data straight from typed arrays. */

/** Packs a validity byte per row into Arrow's bitmap (or none when all valid). */
export function nullBitmap(valid: Uint8Array): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array((valid.length + 7) >> 3);
  for (let i = 0; i < valid.length; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap: nullCount === 0 ? undefined : bitmap, nullCount };
}

/** A fixed-width Arrow column with its validity taken from one byte per row. */
export function nullableData<T extends TimestampMicrosecond | Float64>(type: T, values: T["TArray"], valid: Uint8Array): Data<T> {
  const nulls = nullBitmap(valid);
  const props = { type, length: valid.length, nullCount: nulls.nullCount, nullBitmap: nulls.bitmap, data: values };
  // makeData's overloads cannot follow a generic T; the props are right for both types.
  return (makeData as (p: typeof props) => Data<T>)(props);
}

const encoder = new TextEncoder();

/** Encodes strings into one Arrow Utf8 column in a single buffer. */
export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const n = values.length;
  let units = 0;
  for (const v of values) if (v !== null) units += v.length;
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  const bytes = new Uint8Array(units * 3);
  const offsets = new Int32Array(n + 1);
  const valid = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      valid[i] = 1;
      at += encoder.encodeInto(v, bytes.subarray(at)).written;
    }
    offsets[i + 1] = at;
  }
  const nulls = nullBitmap(valid);
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: nulls.nullCount,
    nullBitmap: nulls.bitmap,
    valueOffsets: offsets,
    data: bytes.subarray(0, at),
  });
}
