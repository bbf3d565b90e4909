import { ident } from "./groupColumns.js";
import type { OutputColumn } from "../frame/frameColumns.js";

/** The per-run statistics, in their column order. */
export const STATISTICS = ["final", "max", "mean", "auc", "first_over"] as const;
export type Statistic = (typeof STATISTICS)[number];

/**
 * One "run" is a run as one embedding model saw it: (run_id,
 * embedding_model), split further by any --by column that varies within a
 * run (text_model, …), so every --by value is one value per run.
 */
export function runKey(by: readonly OutputColumn[]): OutputColumn[] {
  return [...new Set<OutputColumn>(["run_id", "embedding_model", ...by])];
}

/** The columns --per-run shows before its numbers: run_id, the --by columns (embedding_model right after run_id when --by lacks it). */
export function perRunColumns(by: readonly OutputColumn[]): OutputColumn[] {
  const rest = by.filter((c) => c !== "run_id");
  return ["run_id", ...(rest.includes("embedding_model") ? [] : (["embedding_model"] as const)), ...rest];
}

/**
 * Per run, over its rows with non-NULL drift in (sequence_number, id) order:
 * steps (all its rows, NULL drift included), final, max, mean, the
 * trapezoid area under drift over sequence_number, and the first
 * sequence_number whose drift exceeds `threshold` (NULL if none).
 */
export function perRunSql(by: readonly OutputColumn[], threshold: number): string {
  const key = runKey(by).map(ident).join(", ");
  return `
    WITH ordered AS (
      SELECT ${key}, id, sequence_number, semantic_drift,
             lag(sequence_number) OVER steps AS previous_step,
             lag(semantic_drift) OVER steps AS previous_drift
      FROM frame
      -- NULL drift gets a partition of its own: lag() goes from a drifted row to the drifted row before it.
      WINDOW steps AS (PARTITION BY ${key}, semantic_drift IS NULL ORDER BY sequence_number, id)
    )
    SELECT ${key},
           count(*) AS steps,
           last(semantic_drift ORDER BY sequence_number, id) FILTER (WHERE semantic_drift IS NOT NULL) AS "final",
           max(semantic_drift) AS "max",
           avg(semantic_drift) AS "mean",
           -- A single drifted row is a curve of width 0; no drifted row, no curve.
           CASE WHEN count(semantic_drift) > 0
                THEN coalesce(sum((sequence_number - previous_step) * (semantic_drift + previous_drift) / 2), 0)
           END AS auc,
           min(sequence_number) FILTER (WHERE semantic_drift > ${sqlDouble(threshold)}) AS first_over
    FROM ordered
    GROUP BY ${key}`;
}

/** --per-run: the kept runs, in the frame's order. */
export function perRunRowsSql(by: readonly OutputColumn[], runs: string): string {
  const columns = perRunColumns(by);
  const order = [...new Set([...columns.slice(0, 1), "embedding_model", ...columns.slice(1)])].map(ident).join(", ");
  return `SELECT ${columns.map(ident).join(", ")}, steps, ${STATISTICS.map(ident).join(", ")} FROM ${runs} ORDER BY ${order}`;
}

/** Per --by group: runs, the range of steps, and per statistic its mean, sample sd and how many runs have it. */
export function groupMomentsSql(by: readonly OutputColumn[], runs: string): string {
  const keys = by.map(ident).join(", ");
  const moments = STATISTICS.map((s) => `avg(${ident(s)}) AS ${s}_mean, stddev_samp(${ident(s)}) AS ${s}_sd, count(${ident(s)}) AS ${s}_n`).join(",\n           ");
  return `
    SELECT ${keys}, count(*) AS runs, min(steps) AS steps_min, max(steps) AS steps_max,
           ${moments}
    FROM ${runs}
    GROUP BY ${keys}`;
}

/** The degrees of freedom the intervals of `groups` need (n − 1 of every statistic's n). */
export function degreesOfFreedomSql(groups: string): string {
  return `SELECT DISTINCT unnest([${STATISTICS.map((s) => `${s}_n`).join(", ")}]) - 1 AS df FROM ${groups}`;
}

/** The summary rows: mean ± t_{0.975,n−1}·sd/√n per statistic, NULL where n < 2 (no df in `tTable`). */
export function groupRowsSql(by: readonly OutputColumn[], groups: string, tTable: string): string {
  const keys = by.map((c) => `g.${ident(c)}`).join(", ");
  const stats = STATISTICS.map((s) =>
    [
      `g.${s}_mean`,
      `g.${s}_mean - t_${s}.t * g.${s}_sd / sqrt(g.${s}_n) AS ${s}_ci_low`,
      `g.${s}_mean + t_${s}.t * g.${s}_sd / sqrt(g.${s}_n) AS ${s}_ci_high`,
    ].join(", "),
  ).join(",\n           ");
  const joins = STATISTICS.map((s) => `LEFT JOIN ${tTable} AS t_${s} ON t_${s}.df = g.${s}_n - 1`).join("\n    ");
  return `
    SELECT ${keys}, g.runs, g.steps_min, g.steps_max,
           ${stats}
    FROM ${groups} AS g
    ${joins}
    ORDER BY ${keys}`;
}

/** A finite number as a DOUBLE literal (String() of a double reads back as the same double). */
export function sqlDouble(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return `CAST('${String(value)}' AS DOUBLE)`;
}
