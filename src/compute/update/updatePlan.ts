import type { RunTally } from "../../kernel/driftTally.js";
import type { SnapshotChanges, SnapshotState } from "../../sources/snapshotState.js";
import type { FullRecomputeReason } from "./fullRecomputeReason.js";

/** Past this share of runs to recompute, a full recompute (on every reader) is as cheap. */
const MAX_RECOMPUTED_SHARE = 0.25;

/** Which runs an incremental update recomputes, or why it cannot be one. */
export type UpdatePlan =
  | { readonly full: FullRecomputeReason }
  | {
      /** Run ids to read again. */
      readonly recompute: ReadonlySet<string>;
      /** Run id → its tally in the earlier file, for the runs kept from it (with rows). */
      readonly kept: ReadonlyMap<string, RunTally>;
    };

/**
 * Compares the snapshot an earlier file was computed from with the
 * database now. A run is recomputed when it is new, its invocations or its
 * own columns changed, it gained embedding rows, or it had NULL vectors
 * (the engine fills them in later). Rows deleted from runs that otherwise
 * look unchanged cannot be placed cheaply: then everything is recomputed.
 */
export function planUpdate(previous: SnapshotState, tallies: Readonly<Record<string, RunTally>>, changes: SnapshotChanges): UpdatePlan {
  const before = new Map(previous.runs.map(([runId, invocations, rowids, record], index) => [runId, { invocations, rowids, record, tally: tallies[index] }]));
  const now = new Set(changes.state.runs.map(([runId]) => runId));
  const recompute = new Set<string>();
  const kept = new Map<string, RunTally>();
  let expectedRows = previous.embeddings.count;
  for (const [runId, { tally }] of before) if (!now.has(runId)) expectedRows -= tally?.rows ?? 0;
  for (const [runId, invocations, rowids, record] of changes.state.runs) {
    const old = before.get(runId);
    if (old === undefined) {
      recompute.add(runId);
      continue;
    }
    const invocationsChanged = old.invocations !== invocations || old.rowids !== rowids;
    if (invocationsChanged) expectedRows -= (old.tally?.rows ?? 0) - changes.keptRowsOfRun(runId);
    if (invocationsChanged || old.record !== record || changes.runsWithNewRows.has(runId) || (old.tally?.nullReasons.null_vector ?? 0) > 0) {
      recompute.add(runId);
    } else if (old.tally !== undefined) {
      kept.set(runId, old.tally);
    }
  }
  if (previous.embeddings.maxRowid > 0 && !changes.sameLastRow) return { full: "last_row_replaced" };
  if (changes.keptRows !== expectedRows) return { full: "rows_deleted" };
  if (recompute.size > MAX_RECOMPUTED_SHARE * Math.max(1, changes.state.runs.length)) return { full: "many_runs_changed" };
  return { recompute, kept };
}
