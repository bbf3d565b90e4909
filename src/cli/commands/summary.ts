import { Command, InvalidArgumentError, Option } from "../commander.js";
import type { CliIO } from "../cliIO.js";
import { EXIT_CODES } from "../exitCodes.js";

const FORMATS = ["table", "wide", "csv", "json", "parquet"] as const;
type Format = (typeof FORMATS)[number];

interface SummaryFlags {
  in?: string[];
  db?: string;
  by: string;
  threshold: number;
  minSteps?: number;
  perRun?: boolean;
  out?: string;
  format?: Format;
  overwrite?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

const EXAMPLES = `
Examples:
  $ panic-drift summary --db experiment.sqlite
      reads experiment.drift.parquet (what compute --db writes); per network and embedding model
  $ panic-drift summary --in runs.drift.parquet --by initial_prompt --threshold 0.8
  $ panic-drift summary --in drift/ --by experiment_id
      a dataset directory (compute --out drift/): every experiment in it
  $ panic-drift summary --db runs.sqlite --min-steps 40 --out summary.csv
      leave out unfinished runs (fewer than 40 text steps)
  $ panic-drift summary --db runs.sqlite --per-run --format json | jq '.[0]'
  $ panic-drift summary --db runs.sqlite --by network,text_model --out summary.parquet
  $ panic-drift summary --db runs.sqlite --by initial_prompt --format wide | less -S
      every column, however wide

Per run (and embedding model), over its rows with drift, by sequence_number:
final, max, mean, auc (trapezoid area under drift over sequence_number) and
first_over (the first sequence_number with drift > --threshold; NULL if none).
Per group: runs, steps_min/steps_max, and for each of those S_mean with a 95%
t-interval S_ci_low..S_ci_high = mean ± t(0.975, n−1)·sd/√n over the group's
n runs that have S (NULL for n = 1).
On a terminal the table fits 100 columns (or the terminal, if narrower):
each S as mean ± half-width of the interval, long values cut at a word, and
if need be mean, max, first_over, steps, auc and runs left out, in that
order; --format wide prints every column, csv and json every digit.
${EXIT_CODES}`;

/** `panic-drift summary`: per-run drift statistics, and their means with 95% t-intervals per group. */
export function summaryCommand(io: CliIO): Command {
  return new Command("summary")
    .description("summarize a drift frame: per run final/max/mean drift, area under the curve, first step over a threshold; per group their means with 95% t-intervals")
    .option("--in <path>", "drift frame (parquet) written by compute, or a dataset directory (compute --out DIR/); repeatable", collectPaths)
    .option("--db <file>", "read the frame compute --db writes for this database: <db dir>/<db stem>.drift.parquet (default: $DATABASE_PATH)")
    .option("--by <columns>", "group by these frame columns (comma-separated)", "network,embedding_model")
    .option("--threshold <drift>", "first_over: the first step whose drift exceeds this", parseDrift, 1)
    .option("--min-steps <n>", "leave out runs with fewer text steps than this (e.g. unfinished runs)", parseCount)
    .option("--per-run", "one row per run and embedding model instead of one per group")
    .option("--out <file>", "write the table to this file (default: stdout)")
    .addOption(
      new Option(
        "--format <format>",
        "table (fits 100 columns), wide (every column), csv, json or parquet (default: from --out's extension, .txt is wide; else table on a terminal, csv otherwise; parquet needs --out)",
      ).choices(FORMATS),
    )
    .option("--overwrite", "replace the output even if it holds a file panic-drift did not write (never an input)")
    .option("-q, --quiet", "no summary line on stderr")
    .option("--debug", "show stack traces on errors")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: SummaryFlags) => {
      const { summarizeDrift, TABLE_WIDTH } = await import("../../summary/summarize.js");
      const db = flags.in === undefined ? (flags.db ?? nonEmpty(io.env.DATABASE_PATH)) : flags.db;
      const format = flags.format ?? (flags.out === undefined ? (io.stdout.isTTY === true ? "table" : "csv") : undefined);
      const result = await summarizeDrift({
        ...(flags.in === undefined ? {} : { frame: flags.in }),
        ...(db === undefined ? {} : { db }),
        by: flags.by,
        threshold: flags.threshold,
        ...(flags.minSteps === undefined ? {} : { minSteps: flags.minSteps }),
        perRun: flags.perRun === true,
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(format === undefined ? {} : { format }),
        // Fitted to the terminal when it is narrower than 100 columns.
        ...(io.stdout.isTTY === true && io.stdout.columns !== undefined && io.stdout.columns > 0 ? { width: Math.min(TABLE_WIDTH, io.stdout.columns) } : {}),
        overwrite: flags.overwrite === true,
      });
      if (result.text !== undefined) io.stdout.write(result.text);
      if (flags.quiet !== true) {
        // A run counts once per embedding model, as in the table.
        const what = flags.perRun === true ? "" : `${result.rows.length} group${result.rows.length === 1 ? "" : "s"} of `;
        const dropped = result.dropped > 0 ? ` (${result.dropped} with fewer than ${flags.minSteps} steps left out)` : "";
        io.stderr.write(`panic-drift: ${what}${result.runs} run${result.runs === 1 ? "" : "s"}${dropped} from ${result.frame}${result.output === undefined ? "" : ` → ${result.output}`}\n`);
      }
    });
}

function parseDrift(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) throw new InvalidArgumentError("give a number, e.g. 1.0");
  return number;
}

function parseCount(value: string): number {
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number)) throw new InvalidArgumentError("give a whole number, 0 or more");
  return number;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function collectPaths(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
