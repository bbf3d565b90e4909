import type { Metric } from "./metric.js";
import { REASON_CODE } from "./nullReason.js";
import type { PreparedReference } from "./preparedReference.js";
import { VectorStatus } from "../frame/vectorStatus.js";
import { sumOfSquares } from "./sumOfSquares.js";

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
    const sumSquares = sumOfSquares(values, base, dimension);
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
    // ‖v̂ − r̂‖ summed directly: no cancellation near zero drift, unlike √(2 − 2cos).
    const d = cosine ? 1 - scaledDot(values, base, dimension, inverseNorm, unit) : Math.sqrt(scaledDistanceSquared(values, base, dimension, inverseNorm, unit));
    // Rounding can step a hair outside [0, 2]; the definition cannot.
    drift[row] = d < 0 ? 0 : d > 2 ? 2 : d;
  }
  return { drift, reason };
}

/*
 * The three sums below keep four partial sums (lanes i mod 4) and add them
 * at the end. One running sum waits for each addition to finish before the
 * next (~4 cycles a component); four independent ones keep the adder busy,
 * about 3× faster on a 768-d row. The rounding differs from a left-to-right
 * sum only in the last bits (both are float64 sums of float32 inputs).
 */


/** Σ (x·scale − u)² over one row: the squared distance between unit vectors. */
function scaledDistanceSquared(values: Float32Array, base: number, dimension: number, scale: number, unit: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dimension & ~3;
  let k = 0;
  for (; k < end4; k += 4) {
    const d0 = values[base + k]! * scale - unit[k]!;
    const d1 = values[base + k + 1]! * scale - unit[k + 1]!;
    const d2 = values[base + k + 2]! * scale - unit[k + 2]!;
    const d3 = values[base + k + 3]! * scale - unit[k + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; k < dimension; k++) {
    const d = values[base + k]! * scale - unit[k]!;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/** Σ x·scale·u over one row: the cosine of unit vectors. */
function scaledDot(values: Float32Array, base: number, dimension: number, scale: number, unit: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dimension & ~3;
  let k = 0;
  for (; k < end4; k += 4) {
    s0 += values[base + k]! * scale * unit[k]!;
    s1 += values[base + k + 1]! * scale * unit[k + 1]!;
    s2 += values[base + k + 2]! * scale * unit[k + 2]!;
    s3 += values[base + k + 3]! * scale * unit[k + 3]!;
  }
  for (; k < dimension; k++) s0 += values[base + k]! * scale * unit[k]!;
  return s0 + s1 + (s2 + s3);
}
