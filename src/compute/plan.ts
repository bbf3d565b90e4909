// What a compute is asked for, what it decided before the heavy part, and what it returns.
// A leaf of the compute folder: light imports only (the up-to-date path loads it).

import type { Metric } from "../kernel/metric.js";
import type { ReferenceMode } from "../kernel/referenceMode.js";
import { emptyReasonCounts, type NullReason } from "../kernel/nullReason.js";
import { embedSpecDescription, type EmbedSpec } from "../reference/embedSpec.js";
import { referenceCacheDigest, referenceCachePath } from "../reference/referenceCacheFile.js";
import { referenceDigest } from "../reference/referenceResolver.js";
import type { ProtectedInput } from "../sink/outputGuard.js";
import { FORMAT_VERSION, type CacheMetadata, type CacheSettings } from "../sink/cacheMetadata.js";
import type { ReaderThreads } from "../threads/readerThreads.js";
import { type ScanProgress } from "../sources/driftSource.js";
import { filtersKey, filtersText, type SourceFilters } from "../sources/sourceFilters.js";
import { PanicDriftError } from "../common/errors.js";
import { VERSION } from "../common/version.js";
import { readRegularFileSync } from "../common/regularFile.js";
import { parseJson } from "../common/text.js";
import type { FullRecomputeReason } from "./update/fullRecomputeReason.js";

/** Upstream's junk test prompts, left out unless told otherwise. */
export const DEFAULT_EXCLUDED_PROMPTS: readonly string[] = ["yeah", "nah"];

export interface ComputeOptions {
  /**
   * The experiment database or parquet export directory; or several, each a
   * path or a glob (`runs/*.sqlite`), whose runs form one frame (see
   * compute/several/: a run id in two inputs is an error).
   */
  db: string | readonly string[];
  /**
   * Output parquet path; default `<db dir>/<db stem>.drift.parquet` (one
   * input). A directory (an existing one, or a path ending in `/`) is a
   * dataset: see `layout`.
   */
  out?: string;
  /**
   * `file`: one parquet file. `dataset`: a directory of hive-partitioned
   * files (`experiment_id=<id>/part-….parquet`) that an update rewrites
   * only in part. Default: `dataset` when `out` is a directory, else `file`.
   */
  layout?: "file" | "dataset";
  /** A dataset: at most this many runs go to a new part file (default 500; see compute/dataset/datasetPlan.ts). */
  runsPerFile?: number;
  /** A dataset's share for this process: the runs whose id hashes to `index` of `count` (see compute/dataset/shard.ts). */
  shard?: { readonly index: number; readonly count: number };
  metric?: Metric;
  /**
   * What each embedding is measured against: its run's initial prompt
   * (default), the run's first TEXT embedding by the same model, or the
   * previous one (step-to-step drift).
   */
  reference?: ReferenceMode;
  /** A .json/.csv/.parquet file of (initial_prompt, embedding_model, vector). */
  promptVectors?: string;
  /**
   * Fetch the reference vectors nothing else provides from this command or
   * server; they are kept in the reference cache beside the output and reused.
   */
  embed?: EmbedSpec;
  /** Runs with these initial prompts are dropped; default DEFAULT_EXCLUDED_PROMPTS. */
  excludePrompts?: readonly string[];
  /** Missing references become an error instead of a warning. */
  strict?: boolean;
  /** Recompute even when the output is up to date. */
  force?: boolean;
  /**
   * Replace the output (and the reference cache beside it) even when it
   * holds a file panic-drift did not write, or a frame computed with other
   * filters. An input is never replaced.
   */
  overwrite?: boolean;
  /** How long to wait for another run writing the same output (its lock); default 0. */
  wait?: number;
  /** Open the database as immutable (read-only media; unsafe while an experiment writes). */
  immutable?: boolean;
  /** Only these experiments, runs or embedding models. */
  filters?: SourceFilters;
  /** Rows per Arrow batch (memory is bounded by it). */
  batchRows?: number;
  /**
   * Parallel readers (threads, each with its own connection to the same
   * snapshot). Default: up to 2 (the cores), or 1 for small inputs where
   * starting threads costs more than it saves.
   */
  workers?: number;
}

export interface ComputeHooks {
  /** Called after each batch while computing. */
  onProgress?(progress: ScanProgress): void;
  /**
   * Stops the run: whatever it is doing (waiting for the lock, the
   * embedder, reading, DuckDB writing), its threads, DuckDB and the
   * embedding command are ended, its temporary files and lock removed, the
   * output left as it was, and computeDrift rejects with a PanicDriftError
   * of code INTERRUPTED (exit code 143 when the reason is "SIGTERM", else 130).
   * An abort after the new output was put in place changes nothing.
   */
  signal?: AbortSignal;
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
  /**
   * Present when an earlier output was updated: runs read again, runs whose
   * rows were kept from it, and the seconds spent finding what changed and
   * writing the new file (reading the recomputed runs included).
   */
  updated?: { recomputed_runs: number; kept_runs: number; check_seconds: number; write_seconds: number };
  /** Present when a compute read everything (no update): why (see FULL_RECOMPUTE_REASONS). */
  full_recompute_reason?: FullRecomputeReason;
  /** Several inputs, or a dataset: what each input holds in the output. */
  sources?: SourceCounts[];
  /** A dataset: its part files written, kept as they were, and removed. */
  files?: { written: number; kept: number; removed: number };
}

/** One input's share of an output. */
export interface SourceCounts {
  path: string;
  runs: number;
  rows: number;
  rows_with_drift: number;
  /** Whether its rows were computed by this run or kept from an earlier one (a dataset's up-to-date parts). */
  status: "computed" | "kept";
}

/** The options of a compute over one input (computeDrift turns several, or a dataset, into the flows of compute/several and compute/dataset). */
export type SingleInputOptions = ComputeOptions & { readonly db: string };

/** Reader threads started early, and whether the run took them over. */
export interface EarlyReaders {
  readonly readers: ReaderThreads;
  taken: boolean;
}

/** Everything computeDrift decided before the heavy part. */
export interface ComputePlan {
  readonly options: SingleInputOptions;
  readonly metric: Metric;
  readonly reference: ReferenceMode;
  readonly output: string;
  readonly excluded: string[];
  readonly started: number;
  /** Every file the run reads (the output guard's inputs). */
  readonly inputs: readonly ProtectedInput[];
  /**
   * One input's share of a compute over several (see compute/several/):
   * filter values that match nothing here may match in another input, and
   * the reference cache is the one beside this output rather than `output`.
   */
  readonly part?: { readonly referenceCacheOf: string };
}

/**
 * A filtered compute never replaces a frame computed without those filters
 * (what `summary --db` and `plot --db` read) unless told to.
 */
export function refuseFilteredReplacement(plan: ComputePlan, found: Partial<CacheMetadata> | undefined): void {
  const { options, output } = plan;
  const filters = filtersKey(options.filters);
  const overwrite = options.overwrite === true;
  if (overwrite || found === undefined || filters === "" || found.filters === filters) return;
  const before = found.filters === "" || found.filters === undefined ? "without filters" : `with other filters (${describeFilters(found.filters)})`;
  throw new PanicDriftError(
    "OUTPUT_FILTERS_DIFFER",
    `--out ${output} holds a frame computed ${before}; this compute keeps only ${describeFilters(filters)}: give the filtered frame its own --out FILE, or pass --overwrite to replace it`,
  );
}

/** A filtersKey (as a file records it) as options. */
function describeFilters(key: string): string {
  return filtersText(parseJson<SourceFilters>(key, {}));
}

/** The settings that do not need the database opened. */
export function baseSettings(plan: ComputePlan, referenceDigest: string): Omit<CacheSettings, "source" | "input_fingerprint"> {
  return {
    format: FORMAT_VERSION,
    tool_version: VERSION,
    metric: plan.metric,
    reference: plan.reference,
    filters: filtersKey(plan.options.filters),
    exclusions: JSON.stringify(plan.excluded),
    reference_digest: referenceDigest,
  };
}

/** The reference digest from the files as they are now (the reference cache included). */
export function currentReferenceDigest(options: ComputeOptions, output: string): string {
  // Never a FIFO's read, which would block: readPromptVectorsFile has refused anything but a file, and the quick check ignores the error.
  const file = options.promptVectors === undefined ? undefined : readRegularFileSync(options.promptVectors);
  const embedder =
    options.embed === undefined
      ? undefined
      : { description: embedSpecDescription(options.embed), cacheDigest: referenceCacheDigest(referenceCachePath(output)) };
  return referenceDigest(file, embedder);
}

export function upToDateResult(found: Record<string, string | undefined>, output: string, metric: Metric, started: number): ComputeResult {
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
