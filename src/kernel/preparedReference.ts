import { sumOfSquares } from "./sumOfSquares.js";

/**
 * A reference vector made ready for the kernel once, not once per row: its
 * unit vector in float64 (or `zero` when it has no direction).
 */
export interface PreparedReference {
  readonly dimension: number;
  /** r/|r| in float64; empty when `zero`. */
  readonly unit: Float64Array;
  readonly zero: boolean;
}

/** `into`, when given (dimension float64s), holds the unit vector: no allocation per reference. */
export function prepareReference(vector: ArrayLike<number>, into?: Float64Array): PreparedReference {
  const dimension = vector.length;
  // The kernel's own sum, in the same order: drift(v, v) is then exactly 0.
  const sumSquares = sumOfSquares(vector, 0, dimension);
  // Callers validate their vectors; a non-finite reference here is a bug.
  if (!Number.isFinite(sumSquares)) throw new RangeError("reference vector has a non-finite component");
  if (sumSquares === 0) {
    return { dimension, unit: new Float64Array(0), zero: true };
  }
  // Same scaling as the kernel applies to row vectors.
  const inverseNorm = 1 / Math.sqrt(sumSquares);
  const unit = into ?? new Float64Array(dimension);
  for (let i = 0; i < dimension; i++) unit[i] = vector[i]! * inverseNorm;
  return { dimension, unit, zero: false };
}
