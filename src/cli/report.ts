import type { ComputeResult } from "../compute/plan.js";
import { NULL_REASONS } from "../kernel/nullReason.js";
import { FULL_RECOMPUTE_REASONS } from "../compute/update/fullRecomputeReason.js";

const count = (n: number): string => n.toLocaleString("en-US");

/** The one line a cron log keeps of a compute run. */
export function summaryLine(result: ComputeResult): string {
  const nulls = NULL_REASONS.filter((r) => result.null_reasons[r] > 0)
    .map((r) => `${count(result.null_reasons[r])} ${r}`)
    .join(", ");
  const detail = `${count(result.rows)} rows, ${count(result.rows_with_drift)} with drift${nulls ? `; NULL: ${nulls}` : ""}`;
  const seconds = `${result.seconds.toFixed(2)} s`;
  const inputs = result.sources === undefined ? "" : `; ${count(result.sources.length)} input${result.sources.length === 1 ? "" : "s"}`;
  const files =
    result.files === undefined ? "" : `; files: ${count(result.files.written)} written, ${count(result.files.kept)} kept${result.files.removed > 0 ? `, ${count(result.files.removed)} removed` : ""}`;
  if (result.status === "up-to-date") {
    return `up to date: ${result.output} (${detail}; metric ${result.metric}${inputs}) checked in ${seconds}`;
  }
  if (result.updated !== undefined) {
    const { recomputed_runs: recomputed, kept_runs: kept } = result.updated;
    return `updated ${detail} (metric ${result.metric}; ${count(recomputed)} run${recomputed === 1 ? "" : "s"} recomputed, ${count(kept)} kept${inputs}${files}) in ${seconds} → ${result.output}`;
  }
  const reason = result.full_recompute_reason;
  // Said only when an earlier output existed and could not simply be updated: the user may have expected an update.
  const why = reason === undefined || reason === "forced" || reason === "no_earlier_output" ? "" : `; not an update: ${FULL_RECOMPUTE_REASONS[reason]}`;
  return `computed ${detail} (metric ${result.metric}${inputs}${files}${why}) in ${seconds} → ${result.output}`;
}

/** The object `--json` prints: stable keys, numbers as numbers. */
export function jsonReport(result: ComputeResult): string {
  return JSON.stringify({
    status: result.status,
    output: result.output,
    rows: result.rows,
    rows_with_drift: result.rows_with_drift,
    null_reasons: result.null_reasons,
    metric: result.metric,
    warnings: result.warnings,
    seconds: Number(result.seconds.toFixed(3)),
    ...(result.full_recompute_reason === undefined ? {} : { full_recompute_reason: result.full_recompute_reason }),
    ...(result.updated === undefined
      ? {}
      : {
          updated: {
            ...result.updated,
            check_seconds: Number(result.updated.check_seconds.toFixed(3)),
            write_seconds: Number(result.updated.write_seconds.toFixed(3)),
          },
        }),
    ...(result.sources === undefined ? {} : { sources: result.sources }),
    ...(result.files === undefined ? {} : { files: result.files }),
  });
}
