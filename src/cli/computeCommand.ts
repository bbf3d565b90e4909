import { Command, Option } from "./commander.js";
import { PanicDriftError, EXIT_USAGE } from "../errors.js";
import { METRICS, type Metric } from "../kernel/metric.js";
import { computeDrift, DEFAULT_EXCLUDED_PROMPTS } from "../pipeline.js";
import type { CliIO } from "./cliIO.js";
import { colorEnabled } from "./cliIO.js";
import { createProgress } from "./progress.js";
import { jsonReport, summaryLine } from "./report.js";
import { printWarning } from "./messages.js";

interface ComputeFlags {
  db?: string;
  out?: string;
  metric: Metric;
  promptVectors?: string;
  excludePrompt?: string[];
  exclude: boolean;
  strict?: boolean;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
  debug?: boolean;
}

const EXAMPLES = `
Examples:
  $ panic-drift compute --db experiment.sqlite
      writes experiment.drift.parquet beside the database
  $ panic-drift compute --db runs.sqlite --out cache/drift.parquet --metric cosine
  $ panic-drift compute --db runs.sqlite --prompt-vectors prompts.json --strict
      references for real models (Nomic, JinaClip, ...) come from your file
  $ DATABASE_PATH=runs.sqlite panic-drift compute --json | jq .rows_with_drift
  $ panic-drift compute --db runs.sqlite --exclude-prompt test --exclude-prompt debug

Exit codes: 0 done or up to date, 1 failure (bad input, unwritable output,
missing references under --strict), 2 command line that cannot be parsed.`;

/** `panic-drift compute`: options in, one library call, a report out. */
export function computeCommand(io: CliIO, setExitCode: (code: number) => void): Command {
  return new Command("compute")
    .description("compute semantic drift for every text embedding of a panic-tda database into a cached parquet file")
    .option("--db <file>", "experiment database (default: $DATABASE_PATH)")
    .option("--out <file>", "output parquet file (default: <db dir>/<db stem>.drift.parquet)")
    .addOption(
      new Option("--metric <name>", "euclid: ‖v/|v| − r/|r|‖ as upstream; cosine: 1 − cos(v, r)")
        .choices(METRICS)
        .default("euclid"),
    )
    .option("--prompt-vectors <file>", "reference vectors (.json, .csv or .parquet: initial_prompt, embedding_model, vector); wins over built-ins")
    .option(
      "--exclude-prompt <text>",
      `leave out runs with this initial prompt; repeatable; replaces the default (${DEFAULT_EXCLUDED_PROMPTS.join(", ")})`,
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--no-exclude", "leave out no runs at all")
    .option("--strict", "fail (exit 1) when a reference vector is missing instead of writing NULL drift")
    .option("--force", "recompute even when the output is up to date")
    .option("-q, --quiet", "no progress and no summary line (warnings and errors still go to stderr)")
    .option("--json", "print one JSON object with the result on stdout")
    .option("--debug", "show stack traces on errors")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: ComputeFlags) => {
      const db = flags.db ?? nonEmpty(io.env.DATABASE_PATH);
      if (db === undefined) {
        throw new PanicDriftError("USAGE", "missing --db FILE (or set DATABASE_PATH)", { exitCode: EXIT_USAGE });
      }
      if (flags.excludePrompt !== undefined && !flags.exclude) {
        throw new PanicDriftError("USAGE", "--exclude-prompt and --no-exclude contradict each other: use one", {
          exitCode: EXIT_USAGE,
        });
      }
      const quiet = flags.quiet === true;
      const json = flags.json === true;
      const progress = await createProgress(io, { quiet, json, color: colorEnabled(io) });
      progress.start("opening database");
      let result;
      try {
        result = await computeDrift(
          {
            db,
            out: flags.out,
            metric: flags.metric,
            promptVectors: flags.promptVectors,
            excludePrompts: flags.exclude ? (flags.excludePrompt ?? DEFAULT_EXCLUDED_PROMPTS) : [],
            strict: flags.strict === true,
            force: flags.force === true,
          },
          { onProgress: (p) => progress.update(p) },
        );
      } finally {
        progress.stop();
      }
      for (const warning of result.warnings) printWarning(io, warning);
      if (json) io.stdout.write(`${jsonReport(result)}\n`);
      else if (!quiet) io.stderr.write(`panic-drift: ${summaryLine(result)}\n`);
      setExitCode(0);
    });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
