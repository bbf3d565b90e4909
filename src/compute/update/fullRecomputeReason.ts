/**
 * Why a compute that found an earlier output read everything again instead
 * of updating it: a stable code (what `--json` prints as
 * `full_recompute_reason`) and its sentence for people.
 */
export const FULL_RECOMPUTE_REASONS = {
  forced: "--force was given",
  no_earlier_output: "there was no earlier output to update",
  other_settings: "the earlier output was made with other settings",
  source_cannot_tell: "the source cannot tell what changed (a parquet export, or a database without the run_id and invocation_id indexes)",
  earlier_output_unrecorded: "the earlier output does not record the snapshot it was made from",
  unreadable_timestamps: "the earlier output had unreadable timestamps (counted per reader, not per run)",
  last_row_replaced: "the last embedding row of the earlier snapshot was replaced",
  rows_deleted: "embedding rows were deleted from runs that otherwise did not change",
  many_runs_changed: "more than a quarter of the runs changed (a full recompute is as fast)",
  several_inputs: "an input changed, and a file of several inputs is computed whole (a dataset, --out DIR/, is updated in part)",
} as const;

export type FullRecomputeReason = keyof typeof FULL_RECOMPUTE_REASONS;
