import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { PanicDriftError } from "./errors.js";
import type { ReferencePair } from "./frame/referencePairs.js";
import { localDriftStream } from "./driftStream.js";
import { workerDriftStream } from "./parallel/workerDriftStream.js";
import type { PromptVector } from "./reference/promptVector.js";
import { availableParallelism } from "node:os";
import { dimensionMismatchMessages, missingReferenceMessages } from "./kernel/driftTally.js";
import type { Metric } from "./kernel/metric.js";
import { emptyReasonCounts, type NullReason } from "./kernel/nullReason.js";
import { readPromptVectorsFile } from "./reference/promptVectorsFile.js";
import { referenceDigest, ReferenceResolver } from "./reference/referenceResolver.js";
import { FORMAT_VERSION, readCacheMetadata, settingsMatch, toKeyValue, type CacheSettings } from "./sink/cacheMetadata.js";
import { ParquetSink } from "./sink/parquetSink.js";
import type { DriftSource, ScanProgress } from "./sources/driftSource.js";
import { openSource } from "./sources/openSource.js";
import { VERSION } from "./version.js";

/** Upstream's junk test prompts, left out unless told otherwise. */
export const DEFAULT_EXCLUDED_PROMPTS: readonly string[] = ["yeah", "nah"];

export interface ComputeOptions {
  /** The experiment database. */
  db: string;
  /** Output parquet path; default `<db dir>/<db stem>.drift.parquet`. */
  out?: string;
  metric?: Metric;
  /** A .json/.csv/.parquet file of (initial_prompt, embedding_model, vector). */
  promptVectors?: string;
  /** Runs with these initial prompts are dropped; default DEFAULT_EXCLUDED_PROMPTS. */
  excludePrompts?: readonly string[];
  /** Missing references become an error instead of a warning. */
  strict?: boolean;
  /** Recompute even when the output is up to date. */
  force?: boolean;
  /** Rows per Arrow batch (memory is bounded by it). */
  batchRows?: number;
  /**
   * Parallel readers (threads, each with its own connection to the same
   * snapshot). Default: up to 2 (the cores), or 1 for small inputs where
   * starting threads costs more than it saves.
   */
  workers?: number;
}

/** Below this many embedding rows one reader on the main thread is faster. */
const PARALLEL_MIN_ROWS = 20_000;

export interface ComputeHooks {
  /** Called after each batch while computing. */
  onProgress?(progress: ScanProgress): void;
}

export interface ComputeResult {
  status: "computed" | "up-to-date";
  output: string;
  rows: number;
  rows_with_drift: number;
  null_reasons: Record<NullReason, number>;
  metric: Metric;
  warnings: string[];
  seconds: number;
}

export function defaultOutputPath(db: string): string {
  const stem = basename(db, extname(db));
  return join(dirname(db), `${stem}.drift.parquet`);
}

/**
 * The whole job: source → Arrow batches → drift kernel → parquet sink, or
 * nothing at all when the cached output already matches the input.
 */
export async function computeDrift(options: ComputeOptions, hooks: ComputeHooks = {}): Promise<ComputeResult> {
  const started = performance.now();
  const metric = options.metric ?? "euclid";
  const output = resolve(options.out ?? defaultOutputPath(options.db));
  const excluded = [...new Set(options.excludePrompts ?? DEFAULT_EXCLUDED_PROMPTS)].sort();

  const source = openSource(options.db);
  try {
    refuseToOverwriteInput(source.path, output);
    const fileVectors = options.promptVectors === undefined ? [] : await readPromptVectorsFile(options.promptVectors);
    const settings: CacheSettings = {
      format: FORMAT_VERSION,
      tool_version: VERSION,
      source: source.description,
      metric,
      exclusions: JSON.stringify(excluded),
      reference_digest: referenceDigest(
        options.promptVectors === undefined ? undefined : readFileSync(options.promptVectors),
      ),
      input_fingerprint: JSON.stringify(source.fingerprint),
    };

    if (!options.force) {
      const found = await readCacheMetadata(output);
      if (found !== undefined && settingsMatch(found, settings)) {
        return upToDate(found, output, metric, started);
      }
    }

    const sink = await ParquetSink.open(output);
    try {
      const run = computeInto(source, sink, fileVectors, metric, new Set(excluded), options, hooks);
      const counts = await run;
      const warnings = counts.warnings;
      if (options.strict && counts.missing.length > 0) {
        throw new PanicDriftError("MISSING_REFERENCES", `--strict: ${counts.missing[0]}`);
      }
      await sink.finish(
        toKeyValue({
          ...settings,
          rows: String(counts.rows),
          rows_with_drift: String(counts.rowsWithDrift),
          null_reasons: JSON.stringify(counts.nullReasons),
          warnings: JSON.stringify(warnings),
        }),
      );
      return {
        status: "computed",
        output,
        rows: counts.rows,
        rows_with_drift: counts.rowsWithDrift,
        null_reasons: counts.nullReasons,
        metric,
        warnings,
        seconds: (performance.now() - started) / 1000,
      };
    } catch (error) {
      sink.abort();
      throw error;
    }
  } finally {
    source.close();
  }
}

interface RunCounts {
  rows: number;
  rowsWithDrift: number;
  nullReasons: Record<NullReason, number>;
  warnings: string[];
  /** One message per model lacking references (also in warnings). */
  missing: string[];
}

async function computeInto(
  source: DriftSource,
  sink: ParquetSink,
  fileVectors: PromptVector[],
  metric: Metric,
  excludePrompts: ReadonlySet<string>,
  options: ComputeOptions,
  hooks: ComputeHooks,
): Promise<RunCounts> {
  const resolver = new ReferenceResolver(fileVectors);
  const streamOptions = {
    excludePrompts,
    metric,
    batchRows: options.batchRows ?? 2048,
    lookup: (pair: ReferencePair) => resolver.resolve(pair)?.vector,
  };
  const workers = options.workers ?? defaultWorkers(source);
  const stream =
    workers > 1
      ? await workerDriftStream(source, { ...streamOptions, workers, fileVectors })
      : localDriftStream(source, streamOptions);
  for await (const { batch, drift } of stream.batches()) {
    await sink.append(batch, drift);
    hooks.onProgress?.(stream.progress());
  }
  const tally = stream.tally();
  const missing = missingReferenceMessages(tally);
  return {
    rows: tally.rows,
    rowsWithDrift: tally.rowsWithDrift,
    nullReasons: tally.nullReasons,
    warnings: [...stream.warnings(), ...missing, ...dimensionMismatchMessages(tally)],
    missing,
  };
}

function defaultWorkers(source: DriftSource): number {
  const [range] = source.partitions(1);
  const rows = range === undefined ? 0 : range.to - range.from + 1;
  return rows < PARALLEL_MIN_ROWS ? 1 : Math.max(1, Math.min(2, availableParallelism()));
}

function upToDate(found: Record<string, string | undefined>, output: string, metric: Metric, started: number): ComputeResult {
  const nullReasons = { ...emptyReasonCounts(), ...parseJson<Partial<Record<NullReason, number>>>(found.null_reasons, {}) };
  return {
    status: "up-to-date",
    output,
    rows: Number(found.rows ?? 0),
    rows_with_drift: Number(found.rows_with_drift ?? 0),
    null_reasons: nullReasons,
    metric,
    warnings: parseJson<string[]>(found.warnings, []),
    seconds: (performance.now() - started) / 1000,
  };
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** The output must never be the database (or anything SQLite writes beside it). */
function refuseToOverwriteInput(db: string, output: string): void {
  let dbReal: string;
  let outReal: string;
  try {
    dbReal = realpathSync(db);
    outReal = join(realpathSync(dirname(output)), basename(output));
  } catch {
    return; // a missing output directory is reported by the sink
  }
  if (outReal === dbReal || outReal === `${dbReal}-wal` || outReal === `${dbReal}-shm` || outReal === `${dbReal}-journal`) {
    throw new PanicDriftError("OUTPUT_IS_INPUT", `--out ${output} is the database itself: choose another output path`);
  }
}
