/** Σ x² over one row (also what a reference is scaled by: see preparedReference.ts). */
export function sumOfSquares(values: ArrayLike<number>, base: number, dimension: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end = base + dimension;
  const end4 = base + (dimension & ~3);
  let i = base;
  for (; i < end4; i += 4) {
    const x0 = values[i]!;
    const x1 = values[i + 1]!;
    const x2 = values[i + 2]!;
    const x3 = values[i + 3]!;
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  for (; i < end; i++) {
    const x = values[i]!;
    s0 += x * x;
  }
  return s0 + s1 + (s2 + s3);
}
