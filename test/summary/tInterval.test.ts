import { describe, expect, it } from "vitest";
import { tQuantile975 } from "../../src/summary/tInterval.js";
import { T975 } from "./independentSummary.js";

describe("tQuantile975", () => {
  it("matches scipy's t.ppf(0.975, df) to 1e-12", () => {
    const scipy: Record<number, number> = { ...T975, 15: 2.131449545559776, 20: 2.085963447265864, 30: 2.0422724563012378, 100: 1.9839715185235518, 1000: 1.9623390808264083 };
    for (const [df, t] of Object.entries(scipy)) expect(Math.abs(tQuantile975(Number(df)) - t), `df ${df}`).toBeLessThan(1e-12);
  });

  it("falls towards the normal quantile 1.959964 as df grows", () => {
    let previous = Infinity;
    for (const df of [1, 2, 5, 50, 500, 5000, 50000]) {
      const t = tQuantile975(df);
      expect(t).toBeLessThan(previous);
      expect(t).toBeGreaterThan(1.959963984540054);
      previous = t;
    }
    expect(tQuantile975(100000)).toBeCloseTo(1.959963984540054 + 2.4e-5, 5);
  });

  it("has no quantile below 1 degree of freedom", () => {
    expect(() => tQuantile975(0)).toThrow(RangeError);
    expect(() => tQuantile975(1.5)).toThrow(RangeError);
  });
});
