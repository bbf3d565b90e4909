import { extname, resolve } from "node:path";
import { usageError } from "../common/errors.js";
import { AtomicOutput } from "../sink/atomicOutput.js";
import { alignedTable, type ResultCell, type ResultColumn } from "./alignedTable.js";
import { TABLE_WIDTH, terminalTable } from "./terminalTable.js";

export { TABLE_WIDTH };
import { openDriftFrame } from "./driftFrame.js";
import { frameInputs, framePath, type FrameSource } from "./framePath.js";
import { guardOutput, type OutputPolicy } from "../sink/outputGuard.js";
import { kindMetadata } from "../sink/outputKind.js";
import { readParquetFooter } from "../sink/parquetFooter.js";
import { groupColumns } from "./groupColumns.js";
import { renderResult, writeResult, RESULT_FORMATS, type ResultFormat } from "./resultOutput.js";
import { degreesOfFreedomSql, groupMomentsSql, groupRowsSql, perRunRowsSql, perRunSql } from "./summarySql.js";
import { createTQuantileTable } from "./tInterval.js";

export const DEFAULT_SUMMARY_BY = ["network", "embedding_model"] as const;
export const DEFAULT_THRESHOLD = 1;

export interface SummaryOptions extends FrameSource {
  /** Columns of the frame to group by (names or comma-separated lists). Default network, embedding_model. */
  by?: string | readonly string[];
  /** first_over is the first step whose drift exceeds this. Default 1. */
  threshold?: number;
  /** Leave out runs with fewer steps (rows of the run and model). Default 0: none. */
  minSteps?: number;
  /** One row per run and embedding model instead of one per group. */
  perRun?: boolean;
  /** Write the table to this file (atomically). */
  out?: string;
  /**
   * table (aligned, fitted to `width`: the most useful columns), wide (aligned, every column), csv, json or parquet
   * (parquet needs `out`). Default: from `out`'s extension (.txt: wide), else csv; without `out`, no text unless asked.
   */
  format?: ResultFormat;
  /** table: at most this many columns wide (default 100). */
  width?: number;
  /** Replace `out` even if it holds a file panic-drift did not write (never an input). */
  overwrite?: boolean;
}

export interface SummaryResult {
  /** The frame read (absolute). */
  frame: string;
  /** The file written, if `out` was given (absolute). */
  output?: string;
  columns: ResultColumn[];
  /** Numbers as numbers (BIGINT too), text and timestamps as text, NULL as null. */
  rows: Record<string, ResultCell>[];
  /** Runs (per embedding model) summarized. */
  runs: number;
  /** Runs left out by `minSteps`. */
  dropped: number;
  /** The table in `format`, when there is no `out` and a text format was asked for. */
  text?: string;
}

/**
 * Per run: final, max and mean drift, the area under drift over
 * sequence_number, and the first step over `threshold`; then per group the
 * mean of each and its 95% t-interval. All arithmetic is DuckDB SQL over
 * the parquet frame; only the t quantiles come from JavaScript, as a table.
 */
export async function summarizeDrift(options: SummaryOptions): Promise<SummaryResult> {
  const by = groupColumns(options.by ?? DEFAULT_SUMMARY_BY);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const minSteps = options.minSteps ?? 0;
  if (!Number.isFinite(threshold)) throw usageError(`--threshold ${threshold} is not a number`);
  if (!Number.isSafeInteger(minSteps) || minSteps < 0) throw usageError(`--min-steps ${minSteps}: give a whole number of steps, 0 or more`);
  const out = options.out === undefined ? undefined : resolve(options.out);
  const format = options.format ?? (out === undefined ? undefined : (resultFormatFromPath(out) ?? "csv"));
  if (format === "parquet" && out === undefined) throw usageError("--format parquet needs --out FILE (parquet is not written to a terminal)");
  const source = framePath(options);
  const policy: OutputPolicy = { kind: "summary table", label: "--out", remedy: "choose another --out", inputs: frameInputs(source), overwrite: options.overwrite === true };
  // Before anything is read: an output aimed at an input, or at a file panic-drift did not write.
  if (out !== undefined) guardOutput(out, policy, { place: false });

  const frame = await openDriftFrame(source);
  let output: AtomicOutput | undefined;
  try {
    const connection = frame.connection;
    // Before the work: a missing or unwritable directory fails at once.
    output = out === undefined ? undefined : AtomicOutput.begin(out, policy);
    await connection.run(`CREATE TEMP TABLE per_run AS ${perRunSql(by, threshold)}`);
    await connection.run(`CREATE TEMP VIEW kept_runs AS SELECT * FROM per_run WHERE steps >= ${minSteps}`);
    const counts = (await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE steps >= ${minSteps}) AS kept, count(*) FILTER (WHERE steps < ${minSteps}) AS dropped FROM per_run`)).getRowObjectsJson()[0]!;
    if (options.perRun === true) {
      await connection.run(`CREATE TEMP TABLE result AS ${perRunRowsSql(by, "kept_runs")}`);
    } else {
      await connection.run(`CREATE TEMP TABLE groups AS ${groupMomentsSql(by, "kept_runs")}`);
      const dfs = (await connection.runAndReadAll(degreesOfFreedomSql("groups"))).getRowObjectsJson().map((r) => Number(r.df));
      await createTQuantileTable(connection, "t_quantile", dfs);
      await connection.run(`CREATE TEMP TABLE result AS ${groupRowsSql(by, "groups", "t_quantile")}`);
    }
    const reader = await connection.runAndReadAll("SELECT * FROM result");
    const types = reader.columnTypes().map(String);
    const columns = reader.columnNames().map((name, i) => ({ name, type: types[i]! }));
    const rows = reader.getRowObjectsJson().map((row) => plainRow(columns, row));
    const width = options.width ?? TABLE_WIDTH;
    const table = () => (format === "wide" ? alignedTable(columns, rows) : terminalTable(columns, rows, width));
    const result: SummaryResult = { frame: frame.path, columns, rows, runs: Number(counts.kept), dropped: Number(counts.dropped) };
    if (output !== undefined) {
      // What the frame was computed with, as its own metadata says ("" for a frame from elsewhere).
      const made = readParquetFooter(frame.path)?.keyValue;
      const settings = {
        frame: frame.path,
        metric: made?.get("panic_drift.metric") ?? "",
        reference: made?.get("panic_drift.reference") ?? "",
        by: by.join(","),
        threshold: String(threshold),
        min_steps: String(minSteps),
        per_run: String(options.perRun === true),
      };
      await writeResult(connection, "result", format!, output, table, { ...kindMetadata("summary table"), ...prefixed(settings) });
      result.output = output.target;
    } else if (format === "table" || format === "wide") result.text = table();
    else if (format === "csv" || format === "json") result.text = await renderResult(connection, "result", format);
    return result;
  } catch (error) {
    output?.abort();
    throw error;
  } finally {
    frame.close();
  }
}

/** The settings as `panic_drift.*` key-value metadata. */
function prefixed(settings: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => [`panic_drift.${key}`, value]));
}

/** csv, json, parquet by name; .txt is the aligned table with every column. */
export function resultFormatFromPath(path: string): ResultFormat | undefined {
  const extension = extname(path).slice(1).toLowerCase();
  if (extension === "txt") return "wide";
  return extension !== "table" && extension !== "wide" && (RESULT_FORMATS as readonly string[]).includes(extension) ? (extension as ResultFormat) : undefined;
}

const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT)$/;

/** DuckDB's JSON row with its integers (given as text) as numbers. */
function plainRow(columns: readonly ResultColumn[], row: Record<string, unknown>): Record<string, ResultCell> {
  const plain: Record<string, ResultCell> = {};
  for (const { name, type } of columns) {
    const value = row[name];
    // A group column of a frame from elsewhere may be a list or struct (DuckDB's JSON form): String() renders whatever comes.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    plain[name] = value === null || value === undefined ? null : INTEGER_TYPE.test(type) ? Number(value) : typeof value === "number" ? value : String(value);
  }
  return plain;
}
