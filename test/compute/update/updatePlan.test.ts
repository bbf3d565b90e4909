import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { outputRuns } from "../../../src/compute/update/incrementalUpdate.js";
import type { RunTally } from "../../../src/kernel/driftTally.js";
import type { SnapshotChanges, SnapshotState } from "../../../src/sources/snapshotState.js";
import { planUpdate } from "../../../src/compute/update/updatePlan.js";

const ROWS = 20;
const tally = (nulls = 0): RunTally => ({ rows: ROWS, rowsWithDrift: ROWS - nulls, nullReasons: nulls > 0 ? { null_vector: nulls } : {}, missing: {}, mismatched: {} });
const runId = () => randomBytes(16).toString("hex");
/** Run ids in the output's run order (their UTF-8 bytes). */
const inOrder = (ids: string[]) => [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
const stateOf = (ids: string[], count: number): SnapshotState => ({
  runs: ids.map((id) => [id, ROWS, 1, "record"]),
  embeddings: { maxRowid: count, maxId: "last", count },
});

/** The earlier snapshot of `before` runs, and the database now with `added` new runs among them (random ids: scattered through the run order). */
function scattered(before: number, added: number) {
  const earlier = inOrder(Array.from({ length: before }, runId));
  const fresh = Array.from({ length: added }, runId);
  const previous = stateOf(earlier, before * ROWS);
  const tallies = Object.fromEntries(earlier.map((_, index) => [String(index), tally()]));
  const changes: SnapshotChanges = {
    state: stateOf(inOrder([...earlier, ...fresh]), (before + added) * ROWS),
    runsWithNewRows: new Set(fresh),
    keptRows: before * ROWS,
    sameLastRow: true,
    keptRowsOfRun: () => ROWS,
  };
  return { earlier, fresh, previous, tallies, changes };
}

/** Kept and recomputed stretches: changes of kind along the run order, plus one. */
const stretches = (runs: [string, boolean][]) => runs.filter(([, kept], i) => i === 0 || kept !== runs[i - 1]![1]).length;

describe("planUpdate and the runs of an update", () => {
  it("600 new runs scattered among 4,000: those are recomputed, the others kept, in the output's run order (over a thousand stretches)", () => {
    const { earlier, fresh, previous, tallies, changes } = scattered(4000, 600);
    const plan = planUpdate(previous, tallies, changes);
    if ("full" in plan) throw new Error(plan.full);
    expect([...plan.recompute].sort()).toEqual([...fresh].sort());
    expect([...plan.kept.keys()]).toEqual(earlier);
    const runs = outputRuns(
      changes.state.runs.map(([id]) => id),
      plan.recompute,
      plan.kept,
    );
    expect(runs.map(([id]) => id)).toEqual(changes.state.runs.map(([id]) => id));
    expect(runs.filter(([, kept]) => !kept).map(([id]) => id)).toEqual(inOrder(fresh));
    expect(stretches(runs)).toBeGreaterThan(1000);
  });

  it("runs gone, runs with NULL vectors and runs without rows", () => {
    const { earlier, previous, tallies, changes } = scattered(200, 10);
    // Every third earlier run is gone; every tenth had NULL vectors (recomputed); one never had rows (no tally).
    const gone = new Set(earlier.filter((_, i) => i % 3 === 0));
    let count = changes.state.embeddings.count;
    earlier.forEach((id, i) => {
      if (gone.has(id)) count -= ROWS;
      else if (i % 10 === 0) tallies[String(i)] = tally(2);
    });
    const rowless = earlier[1]!;
    delete tallies["1"];
    const earlierState = { ...previous, embeddings: { ...previous.embeddings, count: previous.embeddings.count - ROWS } };
    const state = { ...changes.state, runs: changes.state.runs.filter(([id]) => !gone.has(id)), embeddings: { ...changes.state.embeddings, count: count - ROWS } };
    const plan = planUpdate(earlierState, tallies, { ...changes, state, keptRows: earlierState.embeddings.count - gone.size * ROWS });
    if ("full" in plan) throw new Error(plan.full);
    const runs = outputRuns(
      state.runs.map(([id]) => id),
      plan.recompute,
      plan.kept,
    );
    const ids = runs.map(([id]) => id);
    expect(ids).toEqual(state.runs.map(([id]) => id).filter((id) => id !== rowless));
    for (const [id, kept] of runs) {
      const index = earlier.indexOf(id);
      expect(kept).toBe(index >= 0 && index % 10 !== 0);
    }
  });

  it("past a quarter of the runs changed: a full recompute", () => {
    const { previous, tallies, changes } = scattered(400, 150);
    expect(planUpdate(previous, tallies, changes)).toEqual({ full: "many_runs_changed" });
  });
});
