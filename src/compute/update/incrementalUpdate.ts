import { isBadTimestampsWarning } from "../../stream/driftStream.js";
import { addRunTally, parseRunTallies, type DriftTally } from "../../kernel/driftTally.js";
import { settingsMatch, type CacheMetadata, type CacheSettings } from "../../sink/cacheMetadata.js";
import type { PreviousRows } from "../../sink/parquetSink.js";
import type { DriftSource } from "../../sources/driftSource.js";
import type { SnapshotState } from "../../sources/snapshotState.js";
import { planUpdate } from "./updatePlan.js";

/** An update that recomputes some runs and keeps the others' rows from the earlier file. */
export interface IncrementalUpdate {
  /** What the sink keeps from the earlier file, and where the recomputed runs go. */
  readonly previous: PreviousRows;
  /** The database's snapshot state now (what the next update compares against). */
  readonly state: SnapshotState;
  /** How many runs are recomputed, and how many kept. */
  readonly recomputed: number;
  readonly kept: number;
  /** Adds the kept runs' tallies to the recomputed runs' (the counts of a full recompute). */
  addKept(tally: DriftTally): void;
}

/**
 * Whether the file at `output` (with metadata `found`) can be updated in
 * place of a full recompute: made with the same settings from an earlier
 * state of the same database, by a source that tells what changed. Then
 * `source` is limited to the runs to recompute. Otherwise returns why not
 * (a full compute follows).
 */
export function incrementalUpdate(
  found: Partial<CacheMetadata> | undefined,
  settings: CacheSettings,
  source: DriftSource,
  output: string,
): IncrementalUpdate | string {
  if (found === undefined) return "no earlier output";
  if (!settingsMatch(found, settings, ["input_fingerprint"])) return "the earlier output was made with other settings";
  if (source.snapshotChanges === undefined || source.limitToRuns === undefined || !source.ordered) return "the source cannot tell what changed";
  const previous = parseJson(found.snapshot) as SnapshotState | undefined;
  const tallies = parseRunTallies(found.run_tallies);
  if (previous === undefined || tallies === undefined) return "the earlier output does not record its snapshot";
  // Unreadable timestamps are counted per reader, not per run: they could not be kept apart.
  if (((parseJson(found.warnings) as string[] | undefined) ?? []).some(isBadTimestampsWarning)) return "the earlier output had unreadable timestamps";
  const changes = source.snapshotChanges(previous);
  const plan = planUpdate(previous, tallies, changes);
  if ("full" in plan) return plan.full;
  source.limitToRuns(plan.recompute);
  const runs = changes.state.runs;
  const records = source.runRecords();
  return {
    previous: { file: output, runs: outputRuns(runs.map(([runId]) => runId), plan.recompute, plan.kept) },
    state: changes.state,
    recomputed: plan.recompute.size,
    kept: plan.kept.size,
    addKept: (tally) => {
      runs.forEach(([runId], index) => {
        const kept = plan.kept.get(runId);
        if (kept !== undefined) addRunTally(tally, index, kept, records.record(index).initial_prompt);
      });
    },
  };
}

/**
 * The runs with rows in the updated output, in its run order (that of
 * `current`, the snapshot's runs), each kept from the earlier file or
 * recomputed. A run in neither set has no rows; a run that is gone is not
 * in `current`.
 */
export function outputRuns(current: readonly string[], recompute: ReadonlySet<string>, kept: ReadonlyMap<string, unknown>): [runId: string, kept: boolean][] {
  const runs: [string, boolean][] = [];
  for (const runId of current) {
    if (recompute.has(runId)) runs.push([runId, false]);
    else if (kept.has(runId)) runs.push([runId, true]);
  }
  return runs;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
