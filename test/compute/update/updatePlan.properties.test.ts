import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outputRuns } from "../../../src/compute/update/incrementalUpdate.js";
import { planUpdate, type UpdatePlan } from "../../../src/compute/update/updatePlan.js";
import type { RunTally } from "../../../src/kernel/driftTally.js";
import type { SnapshotChanges, SnapshotState } from "../../../src/sources/snapshotState.js";

/**
 * planUpdate and outputRuns against independent, deliberately plain
 * restatements of their documented rules, on random earlier snapshots and
 * random changes to them (runs gone, added, edited; rows deleted or added;
 * the last row replaced).
 */

type Run = SnapshotState["runs"][number];

interface Case {
  previous: SnapshotState;
  tallies: Record<string, RunTally>;
  changes: SnapshotChanges;
}

const tallyOf = (rows: number, nullVectors: number): RunTally => ({
  rows,
  rowsWithDrift: rows - nullVectors,
  nullReasons: nullVectors > 0 ? { null_vector: nullVectors } : {},
  missing: {},
  mismatched: {},
});

/** What can become of an earlier run; most runs stay as they were, so that every outcome comes up. */
const CHANGES = ["gone", "moreInvocations", "otherRowids", "otherRecord", "newRows", "rowsDeleted"] as const;
type Change = (typeof CHANGES)[number];

/** One earlier run and what became of it. */
const earlierRun = fc.record({
  invocations: fc.integer({ min: 1, max: 4 }),
  rowids: fc.integer({ min: 1, max: 4 }),
  /** Null: the run had no rows, so no tally. */
  rows: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null, freq: 6 }),
  nullVectors: fc.oneof({ weight: 7, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
  changes: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Change[]>([]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...CHANGES), { minLength: 1, maxLength: 3 }) },
  ),
});

const caseArb = fc
  .record({
    earlier: fc.array(earlierRun, { maxLength: 16 }),
    added: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
    /** Rows outside every tally: images, excluded prompts. */
    untallied: fc.integer({ min: 0, max: 3 }),
    emptyEarlierTable: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    sameLastRow: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    seed: fc.integer(),
  })
  .map(({ earlier, added, untallied, emptyEarlierTable, sameLastRow, seed }): Case => {
    const ids = earlier.map((_, i) => `r${String(i).padStart(2, "0")}`);
    const previousRuns: Run[] = earlier.map((r, i) => [ids[i]!, r.invocations, r.rowids, "rec"]);
    const tallies: Record<string, RunTally> = {};
    earlier.forEach((r, i) => {
      if (r.rows !== null) tallies[String(i)] = tallyOf(r.rows, Math.min(r.nullVectors, r.rows));
    });
    const tallied = earlier.reduce((sum, r) => sum + (r.rows ?? 0), 0);
    const count = emptyEarlierTable ? 0 : tallied + untallied;
    const previous: SnapshotState = { runs: previousRuns, embeddings: { maxRowid: count, maxId: count > 0 ? "last" : null, count } };

    const nowRuns: Run[] = [];
    const keptOfRun = new Map<string, number>();
    const newRows = new Set<string>();
    let keptRows = count - tallied; // the untallied rows stay
    earlier.forEach((r, i) => {
      const rows = r.rows ?? 0;
      const has = (change: Change) => r.changes.includes(change);
      if (has("gone")) return;
      const deleted = has("rowsDeleted") ? Math.min(1, rows) : 0;
      keptOfRun.set(ids[i]!, rows - deleted);
      keptRows += rows - deleted;
      if (has("newRows")) newRows.add(ids[i]!);
      nowRuns.push([ids[i]!, r.invocations + (has("moreInvocations") ? 1 : 0), r.rowids + (has("otherRowids") ? 10 : 0), has("otherRecord") ? "rec2" : "rec"]);
    });
    for (let k = 0; k < added; k++) {
      const id = `n${k}`;
      // New runs go anywhere in the run order; a seeded position keeps the case reproducible.
      nowRuns.splice(Math.abs(seed + k * 7919) % (nowRuns.length + 1), 0, [id, 2, 2, "rec"]);
      newRows.add(id);
    }
    const changes: SnapshotChanges = {
      state: { runs: nowRuns, embeddings: { maxRowid: count + 50, maxId: "now", count: keptRows + 10 } },
      runsWithNewRows: newRows,
      keptRows,
      sameLastRow,
      keptRowsOfRun: (id) => keptOfRun.get(id) ?? 0,
    };
    return { previous, tallies, changes };
  });

/** The rules, restated run by run from the earlier snapshot's point of view. */
function simplePlan({ previous, tallies, changes }: Case): { full: string } | { recompute: string[]; kept: string[] } {
  const nowRuns = changes.state.runs;
  const earlierIndex = (id: string) => previous.runs.findIndex(([old]) => old === id);
  const recompute: string[] = [];
  const kept: string[] = [];
  // Rows the earlier table should still hold if only changed runs lost rows: every row outside
  // the runs' tallies, the full tally of each run still there and unchanged, and whatever the
  // source says remains of each run whose invocations changed.
  let untallied = previous.embeddings.count;
  for (let i = 0; i < previous.runs.length; i++) untallied -= tallies[String(i)]?.rows ?? 0;
  let expected = untallied;
  for (const [id, invocations, rowids, record] of nowRuns) {
    const i = earlierIndex(id);
    if (i < 0) {
      recompute.push(id);
      continue;
    }
    const [, oldInvocations, oldRowids, oldRecord] = previous.runs[i]!;
    const t = tallies[String(i)];
    const invocationsSame = oldInvocations === invocations && oldRowids === rowids;
    expected += invocationsSame ? (t?.rows ?? 0) : changes.keptRowsOfRun(id);
    const hadNullVectors = (t?.nullReasons.null_vector ?? 0) > 0;
    if (!invocationsSame || oldRecord !== record || changes.runsWithNewRows.has(id) || hadNullVectors) recompute.push(id);
    else if (t) kept.push(id);
  }
  if (previous.embeddings.maxRowid > 0 && !changes.sameLastRow) return { full: "last_row_replaced" };
  if (changes.keptRows !== expected) return { full: "rows_deleted" };
  // More than a quarter of the runs (at least one run counted) is as cheap to recompute in full.
  if (recompute.length * 4 > Math.max(1, nowRuns.length)) return { full: "many_runs_changed" };
  return { recompute: recompute.sort(), kept: kept.sort() };
}

function asLists(plan: UpdatePlan): { full: string } | { recompute: string[]; kept: string[] } {
  if ("full" in plan) return plan;
  return { recompute: [...plan.recompute].sort(), kept: [...plan.kept.keys()].sort() };
}

describe("planUpdate and outputRuns: properties", () => {
  it("planUpdate agrees with a plain restatement of its rules", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(asLists(planUpdate(c.previous, c.tallies, c.changes))).toEqual(simplePlan(c));
      }),
      { numRuns: 2000 },
    );
  });

  it("an incremental plan keeps each run with its earlier tally, and never both keeps and recomputes a run", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const plan = planUpdate(c.previous, c.tallies, c.changes);
        if ("full" in plan) return;
        for (const [id, t] of plan.kept) {
          expect(plan.recompute.has(id)).toBe(false);
          const i = c.previous.runs.findIndex(([old]) => old === id);
          expect(t).toBe(c.tallies[String(i)]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("the generator reaches every outcome", () => {
    // Without this, the agreement above could hold on nothing but full recomputes.
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(caseArb, (c) => {
        const plan = planUpdate(c.previous, c.tallies, c.changes);
        outcomes.add("full" in plan ? plan.full : plan.recompute.size > 0 && plan.kept.size > 0 ? "mixed" : "update");
      }),
      { numRuns: 2000, seed: 1 },
    );
    expect([...outcomes].sort()).toEqual([
      "last_row_replaced",
      "many_runs_changed",
      "mixed",
      "rows_deleted",
      "update",
    ]);
  });

  it("outputRuns: the runs in either set, in the current order, recompute winning over kept", () => {
    const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 20 });
    fc.assert(
      fc.property(ids, fc.array(fc.boolean()), fc.array(fc.boolean()), (current, inRecompute, inKept) => {
        const recompute = new Set(current.filter((_, i) => inRecompute[i] === true));
        const kept = new Map(current.filter((_, i) => inKept[i] === true).map((id) => [id, null]));
        // Sets may also name runs that are not current (gone): they must not appear.
        recompute.add("gone-r");
        kept.set("gone-k", null);
        const want: [string, boolean][] = [];
        for (const id of current) {
          if (recompute.has(id)) want.push([id, false]);
          else if (kept.has(id)) want.push([id, true]);
        }
        expect(outputRuns(current, recompute, kept)).toEqual(want);
      }),
    );
  });
});
