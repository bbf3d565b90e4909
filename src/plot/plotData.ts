import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../common/text.js";
import { ident } from "../summary/groupColumns.js";
import type { OutputColumn } from "../frame/frameColumns.js";
import { perRunSql } from "../summary/summarySql.js";
import { createTQuantileTable } from "../summary/tInterval.js";

/**
 * What the plots draw, aggregated by DuckDB from the frame (the view
 * `frame`): a few hundred points per group, whatever the frame's size.
 * Vega only lays them out.
 */

/** Mean drift at one step of one group and model, with its 95% t-interval across runs (NULL with one run). */
export interface LinePoint {
  group: string;
  embedding_model: string;
  sequence_number: number;
  runs: number;
  mean: number;
  ci_low: number | null;
  ci_high: number | null;
}

/** The density of drift (all steps) of one group and model at `drift`. */
export interface DensityPoint {
  group: string;
  embedding_model: string;
  drift: number;
  density: number;
}

/** Runs of one group and model whose final drift falls in [bin_start, bin_end). */
export interface HistogramBin {
  group: string;
  embedding_model: string;
  bin_start: number;
  bin_end: number;
  runs: number;
}

/** Points of the density curves. */
const GRID_POINTS = 128;
/** Histogram bins of the density estimate (a binned kernel density: one pass over the rows). */
const DENSITY_BINS = 512;
const HISTOGRAM_BINS = 20;

/** The --by columns as one series label: values joined by " · ", a NULL as "NULL". */
export function groupLabelSql(by: readonly OutputColumn[]): string {
  return `concat_ws(' · ', ${by.map((c) => `coalesce(CAST(${ident(c)} AS VARCHAR), 'NULL')`).join(", ")})`;
}

/** Rows with drift: how many (nothing to plot without them), and the smallest and largest drift. */
export async function driftedRows(connection: DuckDBConnection): Promise<{ rows: number; drifted: number; min: number | null; max: number | null }> {
  const row = (await connection.runAndReadAll("SELECT count(*) AS rows, count(semantic_drift) AS drifted, min(semantic_drift) AS min, max(semantic_drift) AS max FROM frame")).getRowObjectsJson()[0]!;
  return { rows: Number(row.rows), drifted: Number(row.drifted), min: nullableNumber(row.min), max: nullableNumber(row.max) };
}

/** The groups a plot draws: each --by label, or "other" for those pooled. */
export interface PlotSeries {
  /** SQL over the --by columns (of the frame or of per-run rows): the series a row belongs to. */
  sql: string;
  /** The series drawn, in legend order: the groups kept, sorted, then `other` if any were pooled. */
  labels: string[];
  /** How many groups there are in all. */
  groups: number;
  /** The label of the pooled groups, when there are more than `top`. */
  other?: string;
}

/**
 * The groups of `by` among rows with drift; more than `top` of them and
 * the `top` with the most runs (ties: by label) are drawn, the others
 * pooled as one series, "other (N groups)".
 */
export async function plotSeries(connection: DuckDBConnection, by: readonly OutputColumn[], top: number): Promise<PlotSeries> {
  const label = groupLabelSql(by);
  const ranked = (
    await readRows(connection, `SELECT ${label} AS "group", count(DISTINCT run_id) AS runs FROM frame WHERE semantic_drift IS NOT NULL GROUP BY 1 ORDER BY runs DESC, "group"`)
  ).map((r) => String(r.group));
  if (ranked.length <= top) return { sql: label, labels: [...ranked].sort(), groups: ranked.length };
  const kept = ranked.slice(0, top).sort();
  let other = `other (${ranked.length - top} groups)`;
  while (kept.includes(other)) other = `(${other})`;
  return {
    sql: `CASE WHEN ${label} IN (${kept.map(sqlString).join(", ")}) THEN ${label} ELSE ${sqlString(other)} END`,
    labels: [...kept, other],
    groups: ranked.length,
    other,
  };
}

/**
 * Mean drift per step: each run's drift at the step (its duplicates
 * averaged) is one observation. The interval is cut at `range`, the values
 * the metric can take: with two or three runs, t·sd/√n easily reaches past
 * them.
 */
export async function lineData(connection: DuckDBConnection, series: string, range?: readonly [number, number]): Promise<LinePoint[]> {
  const clip = (sql: string) => (range === undefined ? sql : `least(greatest(${sql}, ${range[0]}), ${range[1]})`);
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE step_moments AS
    WITH per_run AS (
      SELECT ${series} AS "group", embedding_model, run_id, sequence_number, avg(semantic_drift) AS drift
      FROM frame
      WHERE semantic_drift IS NOT NULL
      GROUP BY ALL
    )
    SELECT "group", embedding_model, sequence_number, count(*) AS runs, avg(drift) AS mean, stddev_samp(drift) AS sd
    FROM per_run
    GROUP BY ALL`);
  const dfs = (await connection.runAndReadAll("SELECT DISTINCT runs - 1 AS df FROM step_moments")).getRowObjectsJson().map((r) => Number(r.df));
  await createTQuantileTable(connection, "t_quantile", dfs);
  const rows = await readRows(
    connection,
    `SELECT s."group", s.embedding_model, s.sequence_number, s.runs, s.mean,
            ${clip("s.mean - t.t * s.sd / sqrt(s.runs)")} AS ci_low, ${clip("s.mean + t.t * s.sd / sqrt(s.runs)")} AS ci_high
     FROM step_moments AS s LEFT JOIN t_quantile AS t ON t.df = s.runs - 1
     ORDER BY s."group", s.embedding_model, s.sequence_number`,
  );
  return rows.map((r) => ({
    group: String(r.group),
    embedding_model: String(r.embedding_model),
    sequence_number: Number(r.sequence_number),
    runs: Number(r.runs),
    mean: Number(r.mean),
    ci_low: nullableNumber(r.ci_low),
    ci_high: nullableNumber(r.ci_high),
  }));
}

/**
 * A Gaussian kernel density of each group's drift (all steps pooled) on a
 * grid over the drift range, from a fine histogram (binned KDE), with
 * Silverman's bandwidth 0.9·min(sd, IQR/1.34)·n^(−1/5), never narrower than
 * 1/64 of the range. Each curve integrates to about 1.
 */
export async function densityData(connection: DuckDBConnection, series: string): Promise<DensityPoint[]> {
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE drift_values AS
    SELECT ${series} AS "group", embedding_model, semantic_drift AS x FROM frame WHERE semantic_drift IS NOT NULL`);
  const rows = await readRows(
    connection,
    `WITH span AS (SELECT min(x) AS lo, max(x) AS hi FROM drift_values),
     -- One value only: a small window around it.
     grid_span AS (SELECT CASE WHEN hi > lo THEN lo ELSE lo - 0.05 END AS lo, CASE WHEN hi > lo THEN hi ELSE hi + 0.05 END AS hi FROM span),
     bins AS (
       SELECT v."group", v.embedding_model, least(floor((v.x - s.lo) / (s.hi - s.lo) * ${DENSITY_BINS}), ${DENSITY_BINS - 1}) AS bin, count(*) AS n
       FROM drift_values AS v, grid_span AS s
       GROUP BY ALL
     ),
     moments AS (
       SELECT "group", embedding_model, count(*) AS n, stddev_samp(x) AS sd, quantile_cont(x, 0.75) - quantile_cont(x, 0.25) AS iqr
       FROM drift_values
       GROUP BY ALL
     ),
     bandwidth AS (
       SELECT m."group", m.embedding_model, m.n,
              greatest(coalesce(0.9 * CASE WHEN m.iqr > 0 THEN least(m.sd, m.iqr / 1.34) ELSE m.sd END * pow(m.n, -0.2), 0), (s.hi - s.lo) / 64) AS h
       FROM moments AS m, grid_span AS s
     ),
     grid AS (SELECT s.lo + (s.hi - s.lo) * i / ${GRID_POINTS - 1} AS x FROM grid_span AS s, range(${GRID_POINTS}) AS r(i))
     SELECT b."group", b.embedding_model, g.x AS drift,
            sum(b.n * exp(-0.5 * pow((g.x - (s.lo + (b.bin + 0.5) * (s.hi - s.lo) / ${DENSITY_BINS})) / w.h, 2))) / (w.n * w.h * sqrt(2 * pi())) AS density
     FROM bins AS b
     JOIN bandwidth AS w ON w."group" = b."group" AND w.embedding_model = b.embedding_model
     CROSS JOIN grid AS g
     CROSS JOIN grid_span AS s
     GROUP BY b."group", b.embedding_model, g.x, w.n, w.h
     ORDER BY b."group", b.embedding_model, g.x`,
  );
  return rows.map((r) => ({ group: String(r.group), embedding_model: String(r.embedding_model), drift: Number(r.drift), density: Number(r.density) }));
}

/** Final drift per run (as `summary` computes it), counted in equal bins over its range. `series` is SQL over the `by` columns. */
export async function finalDriftHistogram(connection: DuckDBConnection, by: readonly OutputColumn[], series: string): Promise<HistogramBin[]> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE per_run AS ${perRunSql(by, 1)}`);
  const rows = await readRows(
    connection,
    `WITH finals AS (SELECT ${series} AS "group", embedding_model, "final" AS x FROM per_run WHERE "final" IS NOT NULL),
     span AS (SELECT min(x) AS lo, max(x) AS hi FROM finals),
     bins AS (
       SELECT CASE WHEN hi > lo THEN lo ELSE lo - 0.05 END AS lo, CASE WHEN hi > lo THEN (hi - lo) / ${HISTOGRAM_BINS} ELSE 0.1 / ${HISTOGRAM_BINS} END AS width
       FROM span
     ),
     binned AS (SELECT f."group", f.embedding_model, least(floor((f.x - b.lo) / b.width), ${HISTOGRAM_BINS - 1}) AS bin FROM finals AS f, bins AS b)
     SELECT d."group", d.embedding_model, b.lo + d.bin * b.width AS bin_start, b.lo + (d.bin + 1) * b.width AS bin_end, count(*) AS runs
     FROM binned AS d, bins AS b
     GROUP BY ALL
     ORDER BY d."group", d.embedding_model, bin_start`,
  );
  return rows.map((r) => ({
    group: String(r.group),
    embedding_model: String(r.embedding_model),
    bin_start: Number(r.bin_start),
    bin_end: Number(r.bin_end),
    runs: Number(r.runs),
  }));
}

async function readRows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson();
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
