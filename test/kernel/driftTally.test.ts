import { describe, expect, it } from "vitest";
import { addRunTally, emptyTally, mergeTally, parseRunTallies, runTalliesJson, type RunTally } from "../../src/kernel/driftTally.js";
import { resultJson } from "../../src/sink/cacheMetadata.js";

const run = (rows: number, nulls: number): RunTally => ({
  rows,
  rowsWithDrift: rows - nulls,
  nullReasons: nulls > 0 ? { missing_reference: nulls } : {},
  missing: nulls > 0 ? { Nomic: nulls } : {},
  mismatched: {},
});

describe("per-run tallies", () => {
  it("round-trip through their compact JSON (empty fields left out)", () => {
    const runs = { 0: run(10, 0), 3: run(8, 2), 7: { ...run(5, 1), mismatched: { Dummy: { dimensions: [3], reference: 768, rows: 1 } } } };
    const json = runTalliesJson(runs);
    expect(json).not.toContain("{}");
    expect(parseRunTallies(json)).toEqual(runs);
    expect(parseRunTallies("not json")).toBeUndefined();
    expect(parseRunTallies('{"1":{"rows":"x"}}')).toBeUndefined();
  });

  it("kept runs add up to the tally a full read would have made", () => {
    const full = emptyTally();
    const read = emptyTally();
    read.runs[0] = run(10, 0);
    read.rows = 10;
    read.rowsWithDrift = 10;
    mergeTally(full, read);
    addRunTally(full, 1, run(8, 2), "a prompt");
    addRunTally(full, 2, run(6, 3), "another prompt");
    expect(full.rows).toBe(24);
    expect(full.rowsWithDrift).toBe(19);
    expect(full.nullReasons.missing_reference).toBe(5);
    expect(full.missing).toEqual({ Nomic: { "a prompt": 2, "another prompt": 3 } });
    expect(Object.keys(full.runs)).toEqual(["0", "1", "2"]);
  });

  it("a run read in parts by several readers sums up", () => {
    const a = emptyTally();
    const b = emptyTally();
    a.runs[4] = run(3, 1);
    b.runs[4] = run(2, 2);
    mergeTally(a, b);
    expect(a.runs[4]).toEqual({ rows: 5, rowsWithDrift: 2, nullReasons: { missing_reference: 3 }, missing: { Nomic: 3 }, mismatched: {} });
  });

  it("go into the result as a nested object, and come back as they were", () => {
    const tallies = JSON.stringify({ 4: { rows: 5 } });
    const result = { rows: "1", rows_with_drift: "1", null_reasons: "{}", warnings: "[]", run_tallies: tallies };
    expect(JSON.parse(resultJson(result)).run_tallies).toEqual({ 4: { rows: 5 } });
  });
});
