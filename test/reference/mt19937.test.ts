import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { MT19937 } from "../../src/reference/mt19937.js";

interface MtFixture {
  seed: number;
  /** Raw genrand_int32 outputs, keyed by their index in the stream. */
  uint32: Record<string, number>;
  /** numpy `RandomState(seed).random_sample(5)`, as Python `float.hex`. */
  randomSample: string[];
  randomSampleRepr: string[];
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/embedder-vectors.json", import.meta.url), "utf8"),
) as { mt19937: MtFixture[] };

/** Parse Python's `float.hex()` exactly (finite values only). */
function fromPythonHex(hex: string): number {
  const m = /^(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(hex);
  if (!m) throw new Error(`unparsed float.hex: ${hex}`);
  const [, sign, lead, frac, exp] = m as unknown as [string, string, string, string, string];
  // 1 + 52 bits fit a double exactly, and scaling by a power of two is exact.
  const mantissa = Number(lead) + parseInt(frac, 16) / 2 ** (4 * frac.length);
  const value = mantissa * 2 ** Number(exp);
  return sign === "-" ? -value : value;
}

describe("MT19937", () => {
  it("gives the published reference output for the default seed 5489", () => {
    expect(new MT19937(5489).nextUint32()).toBe(3499211612);
  });

  it("has fixture data for the seeds it claims", () => {
    expect(fixture.mt19937.map((f) => f.seed)).toEqual([0, 1, 5489, 2 ** 32 - 1]);
  });

  for (const f of fixture.mt19937) {
    it(`matches numpy's raw 32-bit outputs, across block refills, for seed ${f.seed}`, () => {
      const wanted = Object.entries(f.uint32).map(([i, v]) => [Number(i), v] as const);
      const last = Math.max(...wanted.map(([i]) => i));
      const rng = new MT19937(f.seed);
      const got: number[] = [];
      for (let i = 0; i <= last; i++) got.push(rng.nextUint32());
      for (const [i, v] of wanted) expect(got[i], `output ${i}`).toBe(v);
    });

    it(`matches numpy's random_sample exactly for seed ${f.seed}`, () => {
      const rng = new MT19937(f.seed);
      const got = f.randomSample.map(() => rng.randomSample());
      expect(got).toEqual(f.randomSample.map(fromPythonHex));
      expect(got).toEqual(f.randomSampleRepr.map(Number));
      for (const x of got) expect(x >= 0 && x < 1).toBe(true);
    });
  }

  it("rejects the seeds numpy rejects", () => {
    for (const bad of [2 ** 32, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new MT19937(bad)).toThrow(RangeError);
    }
    expect(() => new MT19937(0)).not.toThrow();
    expect(() => new MT19937(2 ** 32 - 1)).not.toThrow();
  });
});
