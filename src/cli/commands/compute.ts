import { Command, InvalidArgumentError, Option } from "../commander.js";
import { usageError } from "../../common/errors.js";
import { METRICS, type Metric } from "../../kernel/metric.js";
import { REFERENCE_MODES, type ReferenceMode } from "../../kernel/referenceMode.js";
import { computeDrift } from "../../compute/computeDrift.js";
import type { CliIO } from "../cliIO.js";
import { colorEnabled } from "../cliIO.js";
import { createProgress, silentProgress, type Progress } from "../progress.js";
import { COMPUTE_EXIT_CODES } from "../exitCodes.js";
import { jsonReport, summaryLine } from "../report.js";
import { printWarning } from "../messages.js";
import { databaseOption, excludedPrompts, filtersOption, withExclusionOptions, withFilterOptions } from "../sharedOptions.js";
import { parseModelMappings } from "../../reference/embedServer.js";
import type { CommandRun } from "../stopSignals.js";
import type { EmbedSpec } from "../../reference/embedSpec.js";
import { parseShard as parseShardValue } from "../../compute/dataset/shard.js";
import type { Shard } from "../../sink/datasetFiles.js";

interface ComputeFlags {
  db?: string[];
  out?: string;
  layout?: "file" | "dataset";
  shard?: Shard;
  metric: Metric;
  reference: ReferenceMode;
  promptVectors?: string;
  embedCmd?: string;
  embedUrl?: string;
  embedModel?: string[];
  embedApiKey?: string;
  excludePrompt?: string[];
  exclude: boolean;
  strict?: boolean;
  force?: boolean;
  overwrite?: boolean;
  wait: number;
  workers?: number;
  immutable?: boolean;
  experiment?: string[];
  run?: string[];
  model?: string[];
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
  $ panic-drift compute --db runs.sqlite --embed-cmd 'python3 embed.py'
      reference vectors for real models from your own code, cached beside the output
  $ panic-drift compute --db runs.sqlite --embed-url http://localhost:11434/v1 --embed-model Nomic=nomic-embed-text
  $ panic-drift compute --db runs.sqlite --model Nomic --run 0192a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b
  $ panic-drift compute --db runs.sqlite --reference previous --out steps.parquet
      step-to-step drift: no reference vectors needed
  $ panic-drift compute --db 'runs/*.sqlite' --db exports/0197a3_parquet --out drift/
      every input into one hive-partitioned dataset; a nightly run rewrites only what changed
  $ panic-drift compute --db 'runs/*.sqlite' --out drift/ --shard "$SLURM_ARRAY_TASK_ID/8"
      this machine's share of the dataset (a job array of 8 fills it together)
${COMPUTE_EXIT_CODES}`;

/** `panic-drift compute`: options in, one library call, a report out. */
export function computeCommand(io: CliIO, run: CommandRun): Command {
  return withExclusionOptions(withFilterOptions(new Command("compute")))
    .description("compute semantic drift for every text embedding of a panic-tda database into a cached parquet file")
    .option("--db <path>", "experiment database or parquet export directory; repeatable, and a quoted glob ('runs/*.sqlite') names many (default: $DATABASE_PATH)", collectValues)
    .option("--out <path>", "output parquet file (default with one --db: <db dir>/<db stem>.drift.parquet), or a directory (DIR/) for a dataset")
    .addOption(new Option("--layout <kind>", "file: one parquet file; dataset: hive-partitioned part files under --out DIR (default: dataset when --out is a directory)").choices(["file", "dataset"]))
    .option("--shard <i/n>", "with a dataset: compute only the runs whose id hashes to shard i of n (one per machine or job-array task)", parseShard)
    .addOption(
      new Option("--metric <name>", "euclid: ‖v/|v| − r/|r|‖ as upstream; cosine: 1 − cos(v, r)")
        .choices(METRICS)
        .default("euclid"),
    )
    .addOption(
      new Option("--reference <what>", "measure against: prompt (the run's initial prompt), first (its first text, same model) or previous (the step before)")
        .choices(REFERENCE_MODES)
        .default("prompt"),
    )
    .option("--prompt-vectors <file>", "reference vectors (.json, .csv or .parquet: initial_prompt, embedding_model, vector); wins over built-ins")
    .option("--embed-cmd <command>", "fetch missing reference vectors from this command (JSON lines on stdin/stdout; see docs/references.md)")
    .option("--embed-url <base>", "fetch missing reference vectors from an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    .option(
      "--embed-model <name=server-model>",
      "with --embed-url: ask the server for SERVER-MODEL when panic-tda's model is NAME; repeatable",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--embed-api-key <key>", "with --embed-url: bearer token (default: $PANIC_DRIFT_EMBED_API_KEY; never printed)")
    .option("--strict", "fail (exit 1) when a reference vector is missing instead of writing NULL drift")
    .option("--force", "recompute even when the output is up to date")
    .option("--overwrite", "replace --out even if it holds a file panic-drift did not write, or a frame computed with other filters (never an input)")
    .option("--immutable", "read a database on read-only media without locks or -shm (unsafe while an experiment writes)")
    .option("--wait <seconds>", "if another run is writing the same output, wait this long for it (else exit 3)", parseSeconds, 0)
    .option("--workers <n>", "threads that read and compute: 1 (this thread only) to 16 (default: 2 on 2 or more cores, fewer for small inputs)", parseWorkers)
    .option("-q, --quiet", "no progress and no summary line (warnings and errors still go to stderr)")
    .option("--json", "print one JSON object with the result on stdout")
    .option("--debug", "show stack traces on errors")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: ComputeFlags) => {
      const db = flags.db ?? [databaseOption(undefined, io)];
      const excludePrompts = excludedPrompts(flags.excludePrompt, flags.exclude);
      const embed = embedSpec(flags, io);
      const quiet = flags.quiet === true;
      const json = flags.json === true;
      // SIGINT/SIGTERM: computeDrift unwinds (threads, DuckDB, the embedder ended; temporary files and the lock removed) and rejects with INTERRUPTED: exit 130/143.
      let progress: Progress = silentProgress;
      run.cancellable(() => { progress.stop(); });
      progress = await createProgress(io, { quiet, json, color: colorEnabled(io) });
      if (!run.signal.aborted) progress.start("opening database");
      let result;
      try {
        result = await computeDrift(
          {
            db: db.length === 1 && flags.db === undefined ? db[0]! : db,
            out: flags.out,
            ...(flags.layout === undefined ? {} : { layout: flags.layout }),
            ...(flags.shard === undefined ? {} : { shard: flags.shard }),
            metric: flags.metric,
            reference: flags.reference,
            promptVectors: flags.promptVectors,
            ...(embed === undefined ? {} : { embed }),
            excludePrompts,
            strict: flags.strict === true,
            force: flags.force === true,
            overwrite: flags.overwrite === true,
            wait: flags.wait,
            ...(flags.workers === undefined ? {} : { workers: flags.workers }),
            immutable: flags.immutable === true,
            filters: filtersOption(flags),
          },
          { onProgress: (p) => { progress.update(p); }, signal: run.signal },
        );
      } finally {
        progress.stop();
      }
      for (const warning of result.warnings) printWarning(io, warning);
      if (json) io.stdout.write(`${jsonReport(result)}\n`);
      else if (!quiet) io.stderr.write(`panic-drift: ${summaryLine(result)}\n`);
    });
}

/** --embed-cmd or --embed-url (not both), with the server's options only beside --embed-url. */
function embedSpec(flags: ComputeFlags, io: CliIO): EmbedSpec | undefined {
  if (flags.embedCmd !== undefined && flags.embedUrl !== undefined) throw usageError("--embed-cmd and --embed-url contradict each other: use one");
  if (flags.embedUrl === undefined && (flags.embedModel !== undefined || flags.embedApiKey !== undefined)) {
    throw usageError("--embed-model and --embed-api-key go with --embed-url");
  }
  if (flags.embedCmd !== undefined) {
    if (flags.embedCmd.trim() === "") throw usageError("--embed-cmd needs a command");
    return { kind: "command", command: flags.embedCmd };
  }
  if (flags.embedUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(flags.embedUrl);
  } catch {
    throw usageError(`--embed-url ${flags.embedUrl} is not a URL: give the API base, e.g. http://localhost:11434/v1`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`--embed-url ${flags.embedUrl}: only http and https are supported`);
  const apiKey = flags.embedApiKey ?? (io.env.PANIC_DRIFT_EMBED_API_KEY || undefined);
  return {
    kind: "server",
    url: flags.embedUrl,
    models: Object.fromEntries(parseModelMappings(flags.embedModel ?? [])),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
}

function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseShard(value: string): Shard {
  try {
    return parseShardValue(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--shard \S+: /, ""));
  }
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > 16) throw new InvalidArgumentError("give a whole number from 1 to 16");
  return n;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0) throw new InvalidArgumentError("give a number of seconds, 0 or more");
  return seconds;
}
