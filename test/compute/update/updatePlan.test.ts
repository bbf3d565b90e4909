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

/**
 * Each branch of planUpdate on a handful of named runs: a run is one
 * [id, invocations, rowid sum, record] tuple, its tally found by its index in
 * the earlier snapshot, and the changes consistent unless a case says not.
 */
describe("planUpdate, branch by branch", () => {
  type Run = SnapshotState["runs"][number];
  const run = (id: string, invocations = 10, rowids = 100, record = "r"): Run => [id, invocations, rowids, record];
  const EARLIER: Run[] = [run("a"), run("b"), run("c"), run("d"), run("e"), run("f"), run("g"), run("h")];

  /** The earlier snapshot of `runs`, each with a clean tally of ROWS rows, plus `extraRows` rows outside any run's tally. */
  function earlier(runs: Run[] = EARLIER, extraRows = 0) {
    const previous: SnapshotState = { runs, embeddings: { maxRowid: runs.length * ROWS + extraRows, maxId: "last", count: runs.length * ROWS + extraRows } };
    const tallies: Record<string, RunTally> = Object.fromEntries(runs.map((_, index) => [String(index), tally()]));
    return { previous, tallies };
  }

  /** The database now: `runs`, with `keptRows` of the earlier rows still there (default: all of the runs still present). */
  function now(runs: Run[], over: Partial<Omit<SnapshotChanges, "state">> = {}): SnapshotChanges {
    const present = runs.filter(([id]) => EARLIER.some(([old]) => old === id)).length;
    return {
      state: { runs, embeddings: { maxRowid: 1000, maxId: "last", count: 1000 } },
      runsWithNewRows: new Set(),
      keptRows: present * ROWS,
      sameLastRow: true,
      keptRowsOfRun: () => ROWS,
      ...over,
    };
  }

  /** The plan as sorted id lists, for comparison. */
  function planned(plan: ReturnType<typeof planUpdate>) {
    if ("full" in plan) return plan;
    return { recompute: [...plan.recompute].sort(), kept: [...plan.kept.keys()].sort() };
  }

  const ALL = EARLIER.map(([id]) => id);
  const except = (...ids: string[]) => ALL.filter((id) => !ids.includes(id));

  it("nothing changed: every run kept with its own tally, none recomputed", () => {
    const { previous, tallies } = earlier();
    tallies["2"] = { ...tally(), rows: 7, rowsWithDrift: 7 };
    // 13 of c's rows are outside its tally (e.g. excluded): still kept rows of the table.
    const plan = planUpdate(previous, tallies, now(EARLIER));
    if ("full" in plan) throw new Error(plan.full);
    expect(plan.recompute.size).toBe(0);
    expect([...plan.kept.keys()]).toEqual(ALL);
    expect(plan.kept.get("c")).toBe(tallies["2"]);
  });

  it("all six reasons at once, among enough unchanged runs to stay under the share", () => {
    const base = [...EARLIER, ...Array.from({ length: 16 }, (_, i) => run(`u${i}`))];
    const { previous, tallies } = earlier(base);
    tallies["5"] = tally(3); // f had NULL vectors
    const changed: Record<string, Run> = { a: run("a", 11), b: run("b", 10, 101), c: run("c", 10, 100, "r2") };
    const runs = [...base.map((r) => changed[r[0]] ?? r), run("new")];
    const plan = planUpdate(previous, tallies, now(runs, { runsWithNewRows: new Set(["d"]), keptRows: base.length * ROWS }));
    const recomputed = ["a", "b", "c", "d", "f", "new"];
    expect(planned(plan)).toEqual({ recompute: recomputed, kept: base.map(([id]) => id).filter((id) => !recomputed.includes(id)).sort() });
  });

  it("each reason alone recomputes only that run and keeps the others", () => {
    const reasons: [string, (runs: Run[]) => Run[], Partial<Omit<SnapshotChanges, "state">>, Record<string, RunTally>][] = [
      ["a new run", (runs) => [...runs, run("new")], {}, {}],
      ["more invocations", (runs) => runs.map((r) => (r[0] === "b" ? run("b", 12, 130) : r)), {}, {}],
      ["the same count, other invocations", (runs) => runs.map((r) => (r[0] === "b" ? run("b", 10, 177) : r)), {}, {}],
      ["its own columns", (runs) => runs.map((r) => (r[0] === "b" ? run("b", 10, 100, "other") : r)), {}, {}],
      ["new embedding rows", (runs) => runs, { runsWithNewRows: new Set(["b"]) }, {}],
      ["NULL vectors", (runs) => runs, {}, { "1": tally(1) }],
    ];
    for (const [reason, change, over, tallyChanges] of reasons) {
      const { previous, tallies } = earlier();
      const runs = change(EARLIER);
      const recomputed = reason === "a new run" ? "new" : "b";
      const plan = planUpdate(previous, { ...tallies, ...tallyChanges }, now(runs, over));
      expect(planned(plan), reason).toEqual({ recompute: [recomputed], kept: recomputed === "new" ? ALL : except("b") });
    }
  });

  it("a run without rows (no tally) is neither kept nor recomputed; a gone run counts its rows out", () => {
    const { previous, tallies } = earlier();
    delete tallies["3"]; // d never had rows
    previous.embeddings.count -= ROWS;
    const runs = EARLIER.filter(([id]) => id !== "e"); // e is gone, with its rows
    const plan = planUpdate(previous, tallies, now(runs, { keptRows: 6 * ROWS }));
    expect(planned(plan)).toEqual({ recompute: [], kept: except("d", "e") });
  });

  it("rows deleted from a run whose invocations changed are accounted for by keptRowsOfRun", () => {
    const { previous, tallies } = earlier();
    const runs = EARLIER.map((r) => (r[0] === "c" ? run("c", 8, 80) : r)); // two of c's invocations deleted, with 4 rows
    const keptRowsOfRun = (id: string) => (id === "c" ? ROWS - 4 : ROWS);
    const plan = planUpdate(previous, tallies, now(runs, { keptRows: 8 * ROWS - 4, keptRowsOfRun }));
    expect(planned(plan)).toEqual({ recompute: ["c"], kept: except("c") });
  });

  it("rows deleted from runs that look unchanged: a full recompute", () => {
    const { previous, tallies } = earlier();
    expect(planUpdate(previous, tallies, now(EARLIER, { keptRows: 8 * ROWS - 1 }))).toEqual({ full: "rows_deleted" });
    // More rows kept than the tallies account for is as inconsistent.
    expect(planUpdate(previous, tallies, now(EARLIER, { keptRows: 8 * ROWS + 1 }))).toEqual({ full: "rows_deleted" });
  });

  it("rows outside every tally (images, excluded prompts) count as kept rows", () => {
    const { previous, tallies } = earlier(EARLIER, 15);
    expect(planned(planUpdate(previous, tallies, now(EARLIER, { keptRows: 8 * ROWS + 15 })))).toEqual({ recompute: [], kept: ALL });
    expect(planUpdate(previous, tallies, now(EARLIER, { keptRows: 8 * ROWS + 14 }))).toHaveProperty("full");
  });

  it("the earlier last row replaced: a full recompute, before any other reason; not when the earlier table was empty", () => {
    const { previous, tallies } = earlier();
    const changes = now(EARLIER, { sameLastRow: false, keptRows: 0 });
    expect(planUpdate(previous, tallies, changes)).toEqual({ full: "last_row_replaced" });
    const empty: SnapshotState = { runs: [], embeddings: { maxRowid: 0, maxId: null, count: 0 } };
    const fresh = planUpdate(empty, {}, now([run("a")], { sameLastRow: false, keptRows: 0, runsWithNewRows: new Set(["a"]) }));
    // One new run of one is past a quarter: the share rule, not the last-row rule, decides.
    expect(fresh).toEqual({ full: "many_runs_changed" });
  });

  it("deleted rows are reported before the share of changed runs", () => {
    const { previous, tallies } = earlier();
    const runs = EARLIER.map((r) => run(r[0], 11));
    expect(planUpdate(previous, tallies, now(runs, { keptRows: 0 }))).toEqual({ full: "rows_deleted" });
    expect(planUpdate(previous, tallies, now(runs))).toEqual({ full: "many_runs_changed" });
  });

  it("the share threshold: a quarter of the runs is still an update, one more is a full recompute", () => {
    const { previous, tallies } = earlier();
    const withNewRows = (ids: string[]) => now(EARLIER, { runsWithNewRows: new Set(ids) });
    expect(planned(planUpdate(previous, tallies, withNewRows(["a", "b"])))).toEqual({ recompute: ["a", "b"], kept: except("a", "b") });
    expect(planUpdate(previous, tallies, withNewRows(["a", "b", "c"]))).toEqual({ full: "many_runs_changed" });
  });

  it("no runs at all: an empty update", () => {
    const empty: SnapshotState = { runs: [], embeddings: { maxRowid: 0, maxId: null, count: 0 } };
    expect(planned(planUpdate(empty, {}, now([], { keptRows: 0 })))).toEqual({ recompute: [], kept: [] });
  });
});
