import type { Metric } from "./metric.js";
import { REASON_CODE } from "./nullReason.js";
import type { PreparedReference } from "./preparedReference.js";
import { VectorStatus } from "../frame/vectorStatus.js";

/** What the kernel needs from a source batch: flat float32 rows of one dimension. */
export interface KernelInput {
  readonly rows: number;
  readonly dimension: number;
  /** rows × dimension float32 values, row-major; rows whose status is not ok hold garbage. */
  readonly values: Float32Array;
  /** VectorStatus per row. */
  readonly status: Uint8Array;
  /** Index into `references` per row. */
  readonly referenceKey: Int32Array;
}

export interface KernelOutput {
  /** Drift per row; meaningless where `reason` is non-zero. */
  readonly drift: Float64Array;
  /** 0 where the row has a drift, else a REASON_CODE. */
  readonly reason: Uint8Array;
}

const NULL_VECTOR = REASON_CODE.null_vector;
const BAD_LENGTH = REASON_CODE.bad_blob_length;
const NOT_BLOB = REASON_CODE.not_blob;
const NON_FINITE = REASON_CODE.non_finite;
const ZERO_VECTOR = REASON_CODE.zero_vector;
const MISSING_REFERENCE = REASON_CODE.missing_reference;
const ZERO_REFERENCE = REASON_CODE.zero_reference;
const DIMENSION_MISMATCH = REASON_CODE.dimension_mismatch;

/**
 * Semantic drift of every row of a batch against its reference, in float64.
 * Row i's result lands at index i and nowhere else, whatever is NULL.
 */
export function driftKernel(
  input: KernelInput,
  references: ReadonlyArray<PreparedReference | undefined>,
  metric: Metric,
): KernelOutput {
  const { rows, dimension, values, status, referenceKey } = input;
  const drift = new Float64Array(rows);
  const reason = new Uint8Array(rows);
  const cosine = metric === "cosine";

  for (let row = 0; row < rows; row++) {
    const s = status[row];
    if (s !== VectorStatus.ok) {
      reason[row] = s === VectorStatus.null ? NULL_VECTOR : s === VectorStatus.badLength ? BAD_LENGTH : NOT_BLOB;
      continue;
    }
    const base = row * dimension;
    let sumSquares = 0;
    for (let i = 0; i < dimension; i++) {
      const x = values[base + i]!;
      sumSquares += x * x;
    }
    // float32 squares cannot overflow float64, so a non-finite sum means a NaN/Inf component.
    if (!Number.isFinite(sumSquares)) {
      reason[row] = NON_FINITE;
      continue;
    }
    // An empty blob has no components to be zero: it is reported as a dimension problem below.
    if (sumSquares === 0 && dimension > 0) {
      reason[row] = ZERO_VECTOR;
      continue;
    }
    const reference = references[referenceKey[row]!];
    if (reference === undefined) {
      reason[row] = MISSING_REFERENCE;
      continue;
    }
    if (reference.zero) {
      reason[row] = ZERO_REFERENCE;
      continue;
    }
    if (reference.dimension !== dimension) {
      reason[row] = DIMENSION_MISMATCH;
      continue;
    }
    const unit = reference.unit;
    const inverseNorm = 1 / Math.sqrt(sumSquares);
    let d: number;
    if (cosine) {
      let dot = 0;
      for (let i = 0; i < dimension; i++) dot += values[base + i]! * inverseNorm * unit[i]!;
      d = 1 - dot;
    } else {
      // ‖v̂ − r̂‖ summed directly: no cancellation near zero drift, unlike √(2 − 2cos).
      let sum = 0;
      for (let i = 0; i < dimension; i++) {
        const diff = values[base + i]! * inverseNorm - unit[i]!;
        sum += diff * diff;
      }
      d = Math.sqrt(sum);
    }
    // Rounding can step a hair outside [0, 2]; the definition cannot.
    drift[row] = d < 0 ? 0 : d > 2 ? 2 : d;
  }
  return { drift, reason };
}
