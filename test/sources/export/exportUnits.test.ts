import { describe, expect, it } from "vitest";
import { fileInUnitOrder, unitPlan, unitStarts } from "../../../src/sources/export/exportUnits.js";

/** A small seeded generator: the same cases on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per run, rows between 0 and max (a fair share of empty runs). */
function randomRows(next: () => number, runs: number, max: number): number[] {
  return Array.from({ length: runs }, () => (next() < 0.2 ? 0 : Math.floor(next() * (max + 1))));
}

/** The units as lists of runs, from their starts. */
function unitsOf(starts: readonly number[], runs: number): number[][] {
  return starts.map((start, u) => Array.from({ length: (starts[u + 1] ?? runs) - start }, (_, k) => start + k));
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe("an export's units", () => {
  it("cuts known cases as expected", () => {
    expect(unitStarts([], 10)).toEqual([]);
    expect(unitStarts([0, 0, 0], 10)).toEqual([0]);
    expect(unitStarts([3, 3, 3, 3], 6)).toEqual([0, 2]);
    expect(unitStarts([3, 3, 3, 3], 5)).toEqual([0, 1, 2, 3]);
    // A run longer than a batch is a unit of its own; the empty runs after it start the next one.
    expect(unitStarts([2, 50, 0, 0, 1], 10)).toEqual([0, 1, 2]);
    expect(unitStarts([2, 3, 0, 6], 5)).toEqual([0, 3]);
    // Leading empty runs join the first run, however long it is.
    expect(unitStarts([0, 0, 50, 1], 10)).toEqual([0, 3]);
    expect(unitStarts([1, 1, 1], 1)).toEqual([0, 1, 2]);
    expect(unitStarts([5], 1)).toEqual([0]);
  });

  it("keeps the runs in order, each unit within batchRows unless it is one long run, and no unit could take the next run", () => {
    const next = random(7);
    for (let trial = 0; trial < 500; trial++) {
      const runs = Math.floor(next() * 40);
      const batchRows = 1 + Math.floor(next() * 30);
      const rows = randomRows(next, runs, 40);
      const units = unitsOf(unitStarts(rows, batchRows), runs);
      // Every run once, in run order.
      expect(units.flat()).toEqual(Array.from({ length: runs }, (_, k) => k));
      units.forEach((unit, u) => {
        const unitRows = sum(unit.map((run) => rows[run]!));
        if (unitRows > batchRows) expect(unit.filter((run) => rows[run]! > 0)).toHaveLength(1);
        const following = units[u + 1];
        // A unit ends only where the next run would not fit (and only once it holds rows).
        if (following !== undefined) expect(unitRows > 0 && unitRows + rows[following[0]!]! > batchRows).toBe(true);
      });
    }
  });

  it("plans each run's unit and each unit's rows, excluded runs left out", () => {
    expect(unitPlan([], [], new Set())).toEqual({ unitOfRun: new Int32Array(0), expected: [] });
    const plan = unitPlan([0, 2, 3], [4, 0, 7, 1, 2], new Set([3]));
    expect([...plan.unitOfRun]).toEqual([0, 0, 1, 2, 2]);
    expect(plan.expected).toEqual([4, 7, 2]);

    const next = random(11);
    for (let trial = 0; trial < 300; trial++) {
      const runs = Math.floor(next() * 30);
      const rows = randomRows(next, runs, 20);
      const starts = unitStarts(rows, 1 + Math.floor(next() * 25));
      const excluded = new Set(Array.from({ length: runs }, (_, k) => k).filter(() => next() < 0.25));
      const { unitOfRun, expected } = unitPlan(starts, rows, excluded);
      // Independently: a run's unit is the last one starting at or before it.
      const unitOf = (run: number) => starts.filter((start) => start <= run).length - 1;
      expect([...unitOfRun]).toEqual(rows.map((_, run) => unitOf(run)));
      expect(expected).toEqual(starts.map((_, u) => sum(rows.filter((_, run) => unitOf(run) === u && !excluded.has(run)))));
    }
  });

  it("reads the file in its own order only when each unit's rows come before the next unit's", () => {
    // Runs 0 and 1 in unit 0, run 2 in unit 1.
    const unitOfRun = Int32Array.from([0, 0, 1]);
    expect(fileInUnitOrder(unitOfRun, 2, [0, 10, 20], [9, 19, 29])).toBe(true);
    // Within a unit the runs may come in any order.
    expect(fileInUnitOrder(unitOfRun, 2, [10, 0, 20], [19, 9, 29])).toBe(true);
    expect(fileInUnitOrder(unitOfRun, 2, [0, 20, 10], [9, 29, 19])).toBe(false);
    // Touching ranges overlap; runs without rows (-1) are no constraint.
    expect(fileInUnitOrder(unitOfRun, 2, [0, -1, 9], [9, -1, 12])).toBe(false);
    expect(fileInUnitOrder(unitOfRun, 2, [-1, -1, 0], [-1, -1, 5])).toBe(true);
    expect(fileInUnitOrder(new Int32Array(0), 0, [], [])).toBe(true);

    const next = random(3);
    for (let trial = 0; trial < 300; trial++) {
      const runs = 1 + Math.floor(next() * 12);
      const rows = randomRows(next, runs, 5);
      const starts = unitStarts(rows, 1 + Math.floor(next() * 8));
      const { unitOfRun: plan } = unitPlan(starts, rows, new Set());
      // Lay the runs' rows out in the file, mostly in run order, sometimes shuffled.
      const order = Array.from({ length: runs }, (_, k) => k);
      if (next() < 0.5) order.sort(() => next() - 0.5);
      const firstRow = new Array<number>(runs).fill(-1);
      const lastRow = new Array<number>(runs).fill(-1);
      let at = 0;
      for (const run of order) {
        if (rows[run] === 0) continue;
        firstRow[run] = at;
        lastRow[run] = at + rows[run]! - 1;
        at += rows[run]!;
      }
      // Independently: every pair of units with rows, in unit order, lies apart in the file.
      const ranges = starts.map((_, u) => {
        const own = order.filter((run) => plan[run] === u && rows[run]! > 0);
        return own.length === 0 ? undefined : { first: Math.min(...own.map((run) => firstRow[run]!)), last: Math.max(...own.map((run) => lastRow[run]!)) };
      });
      let apart = true;
      ranges.forEach((a, u) => {
        ranges.forEach((b, v) => {
          if (u < v && a !== undefined && b !== undefined && a.last >= b.first) apart = false;
        });
      });
      expect(fileInUnitOrder(plan, starts.length, firstRow, lastRow)).toBe(apart);
    }
  });
});
