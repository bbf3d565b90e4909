import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { driftKernel, type KernelInput } from "../../src/kernel/driftKernel.js";
import type { Metric } from "../../src/kernel/metric.js";
import { REASON_CODE } from "../../src/kernel/nullReason.js";
import { prepareReference } from "../../src/kernel/preparedReference.js";
import { VectorStatus } from "../../src/frame/vectorStatus.js";

/** Drift of single vectors through the batch kernel. */
function drift(v: number[], r: number[], metric: Metric = "euclid"): number | null {
  const input: KernelInput = {
    rows: 1,
    dimension: v.length,
    values: Float32Array.from(v),
    status: Uint8Array.of(VectorStatus.ok),
    referenceKey: Int32Array.of(0),
  };
  const out = driftKernel(input, [prepareReference(Float32Array.from(r))], metric);
  return out.reason[0] === 0 ? out.drift[0]! : null;
}

describe("driftKernel: upstream's known values (reference [1,0,0])", () => {
  const r = [1, 0, 0];
  it.each([
    [[1, 0, 0], 0],
    [[0, 1, 0], Math.SQRT2],
    [[-1, 0, 0], 2],
    [[1, 1, 0], Math.sqrt(2 - Math.SQRT2)],
    [[2, 0, 0], 0],
  ])("euclid %j → %d", (v, expected) => {
    expect(drift(v, r)).toBeCloseTo(expected, 12);
  });
  it("[2,4,6] against [1,2,3] is 0", () => {
    expect(drift([2, 4, 6], [1, 2, 3])).toBeCloseTo(0, 12);
  });
  it.each([
    [[1, 0, 0], 0],
    [[0, 1, 0], 1],
    [[-1, 0, 0], 2],
    [[1, 1, 0], 1 - Math.SQRT1_2],
  ])("cosine %j → %d", (v, expected) => {
    expect(drift(v, r, "cosine")).toBeCloseTo(expected, 12);
  });
});

describe("driftKernel: NULL reasons land on their own row", () => {
  it("reports each reason at its index and computes the rows between", () => {
    const dim = 3;
    const rows = [
      [1, 0, 0], // ok
      [0, 0, 0], // zero vector
      [NaN, 1, 0], // non-finite
      [Infinity, 0, 0], // non-finite
      [0, 1, 0], // ok, key 1 → missing reference
      [0, 1, 0], // ok, key 2 → zero reference
      [0, 1, 0], // ok, key 3 → reference of another dimension
      [0, 1, 0], // ok
    ];
    const status = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, VectorStatus.null, VectorStatus.badLength, VectorStatus.notBlob]);
    const values = new Float32Array(status.length * dim);
    rows.forEach((row, i) => { values.set(row, i * dim); });
    const referenceKey = Int32Array.from([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0]);
    const references = [prepareReference([1, 0, 0]), undefined, prepareReference([0, 0, 0]), prepareReference([1, 0])];
    const out = driftKernel({ rows: status.length, dimension: dim, values, status, referenceKey }, references, "euclid");
    expect([...out.reason]).toEqual([
      0,
      REASON_CODE.zero_vector,
      REASON_CODE.non_finite,
      REASON_CODE.non_finite,
      REASON_CODE.missing_reference,
      REASON_CODE.zero_reference,
      REASON_CODE.dimension_mismatch,
      0,
      REASON_CODE.null_vector,
      REASON_CODE.bad_blob_length,
      REASON_CODE.not_blob,
    ]);
    expect(out.drift[0]).toBe(0);
    expect(out.drift[7]).toBeCloseTo(Math.SQRT2, 12);
  });

  it("treats an empty vector as a dimension problem, not a zero vector", () => {
    const out = driftKernel(
      { rows: 1, dimension: 0, values: new Float32Array(0), status: Uint8Array.of(0), referenceKey: Int32Array.of(0) },
      [prepareReference([1, 0])],
      "euclid",
    );
    expect(out.reason[0]).toBe(REASON_CODE.dimension_mismatch);
  });

  it("gives denormal-only vectors a drift (they are not zero)", () => {
    const tiny = 1e-45; // the smallest float32 denormal
    expect(drift([tiny, 0, 0], [1, 0, 0])).toBeCloseTo(0, 12);
    expect(drift([0, tiny, tiny], [1, 0, 0])).toBeCloseTo(Math.SQRT2, 12);
  });
});

/** Plain float64 oracle, written from the definition. */
function oracle(v: number[], r: number[], metric: Metric): number {
  const nv = Math.hypot(...v);
  const nr = Math.hypot(...r);
  if (metric === "cosine") return 1 - v.reduce((s, x, i) => s + x * r[i]!, 0) / (nv * nr);
  return Math.sqrt(v.reduce((s, x, i) => s + (x / nv - r[i]! / nr) ** 2, 0));
}

const f32 = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }).map(Math.fround);
const pairOf = (dim: number) => fc.tuple(fc.array(f32, { minLength: dim, maxLength: dim }), fc.array(f32, { minLength: dim, maxLength: dim }));
const nonZero = (v: number[]) => v.some((x) => x !== 0) && v.reduce((s, x) => s + x * x, 0) > 1e-30;

describe("driftKernel: properties", () => {
  for (const metric of ["euclid", "cosine"] as const) {
    it(`${metric}: matches a plain float64 computation and stays in [0, 2]`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 64 }).chain(pairOf), ([v, r]) => {
          fc.pre(nonZero(v) && nonZero(r));
          const d = drift(v, r, metric)!;
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(2);
          expect(Math.abs(d - Math.min(2, Math.max(0, oracle(v, r, metric))))).toBeLessThan(1e-9);
        }),
      );
    });

    it(`${metric}: drift(v, v) = 0 and scaling either vector changes nothing`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 64 }).chain(pairOf), fc.integer({ min: 1, max: 8 }), ([v, r], k) => {
          fc.pre(nonZero(v) && nonZero(r));
          expect(drift(v, v, metric)).toBeLessThan(1e-7);
          // The reference is scaled by the kernel's own sum (same lanes, same order): no rounding left over.
          if (metric === "euclid") expect(drift(v, v, metric)).toBe(0);
          const scaled = v.map((x) => Math.fround(x * 2 ** k));
          expect(Math.abs(drift(scaled, r, metric)! - drift(v, r, metric)!)).toBeLessThan(1e-12);
        }),
      );
    });

    it(`${metric}: symmetric in v and r`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 64 }).chain(pairOf), ([v, r]) => {
          fc.pre(nonZero(v) && nonZero(r));
          expect(Math.abs(drift(v, r, metric)! - drift(r, v, metric)!)).toBeLessThan(1e-12);
        }),
      );
    });
  }

  it("euclid = √(2 − 2·(1 − cosine))", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }).chain(pairOf), ([v, r]) => {
        fc.pre(nonZero(v) && nonZero(r));
        const c = drift(v, r, "cosine")!;
        expect(Math.abs(drift(v, r, "euclid")! - Math.sqrt(Math.max(0, 2 * c)))).toBeLessThan(1e-7);
      }),
    );
  });
});
