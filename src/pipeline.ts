// Light imports only: the up-to-date path must not load DuckDB, Arrow or SQLite.
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { EXIT_USAGE, PanicDriftError } from "./errors.js";
import type { Metric } from "./kernel/metric.js";
import type { ReferenceMode } from "./kernel/referenceMode.js";
import { emptyReasonCounts, type NullReason } from "./kernel/nullReason.js";
import { embedSpecDescription, type EmbedSpec } from "./reference/embedSpec.js";
import { referenceCacheDigest, referenceCachePath, referenceCachePolicy } from "./reference/referenceCacheFile.js";
import { guardOutput, type ProtectedInput } from "./sink/outputGuard.js";
import { inputFiles } from "./sources/inputFiles.js";
import { referenceDigest } from "./reference/referenceResolver.js";
import { OutputLock } from "./sink/outputLock.js";
import { FORMAT_VERSION, readCacheMetadata, settingsMatch, type CacheMetadata, type CacheSettings } from "./sink/cacheMetadata.js";
import { startReaderThreads, stopReaderThreads, type ReaderThreads } from "./parallel/readerThreads.js";
import { filtersKey, filtersText, type ScanProgress, type SourceFilters } from "./sources/driftSource.js";
import { inputFingerprint, type InputFingerprint } from "./sources/inputFingerprint.js";
import { VERSION } from "./version.js";
import { readRegularFileSync } from "./regularFile.js";
import { interruptedError, throwIfInterrupted } from "./interruptCleanup.js";

/** Upstream's junk test prompts, left out unless told otherwise. */
export const DEFAULT_EXCLUDED_PROMPTS: readonly string[] = ["yeah", "nah"];

export interface ComputeOptions {
  /** The experiment database. */
  db: string;
  /** Output parquet path; default `<db dir>/<db stem>.drift.parquet`. */
  out?: string;
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
}

export function defaultOutputPath(db: string): string {
  const stem = basename(db, extname(db));
  return join(dirname(db), `${stem}.drift.parquet`);
}

/**
 * The whole job: source → Arrow batches → drift kernel → parquet sink, or
 * nothing at all when the cached output already matches the input.
 *
 * The up-to-date check runs first and loads nothing heavy (no DuckDB, no
 * Arrow, no database connection): a cron run that has nothing to do costs a
 * few stat calls and a read of the output's parquet footer.
 */
export async function computeDrift(options: ComputeOptions, hooks: ComputeHooks = {}): Promise<ComputeResult> {
  const { signal } = hooks;
  throwIfInterrupted(signal);
  try {
    return await compute(options, hooks);
  } catch (error) {
    // Stopped on purpose: whatever failed on the way out (DuckDB interrupted, the embedder killed) is that.
    throw signal?.aborted === true ? interruptedError(signal) : error;
  }
}

async function compute(options: ComputeOptions, hooks: ComputeHooks): Promise<ComputeResult> {
  const started = performance.now();
  const metric = options.metric ?? "euclid";
  const output = resolve(options.out ?? defaultOutputPath(options.db));
  const excluded = [...new Set(options.excludePrompts ?? DEFAULT_EXCLUDED_PROMPTS)].sort();
  const reference = options.reference ?? "prompt";
  if (reference !== "prompt" && (options.promptVectors !== undefined || options.embed !== undefined)) {
    throw new PanicDriftError("USAGE", `--reference ${reference} measures against the runs' own embeddings: --prompt-vectors and --embed-* do not apply`, {
      exitCode: EXIT_USAGE,
    });
  }
  const inputs: ProtectedInput[] = [...inputFiles(options.db), ...(options.promptVectors === undefined ? [] : [{ path: options.promptVectors, what: "the --prompt-vectors file" }])];
  const plan: ComputePlan = { options, metric, reference, output, excluded, started, inputs };
  let likelyUpdate = false;
  if (!options.force) {
    const found = await readCacheMetadata(output);
    const fingerprint = quickFingerprint(options.db);
    const digest = quickReferenceDigest(options, output);
    if (found !== undefined && fingerprint !== undefined && digest !== undefined) {
      // The database file is unchanged since the output was made, so is its kind (`source`).
      const settings = { ...baseSettings(plan, digest), input_fingerprint: JSON.stringify(fingerprint) };
      if (settingsMatch(found, settings, ["source"])) return upToDateResult(found, output, metric, started);
      likelyUpdate = found.snapshot !== undefined && settingsMatch(found, settings, ["source", "input_fingerprint"]);
    }
  }
  // Before anything is written (the lock included): never over an input or a file that is not ours.
  guardOutputs(plan);
  // Another run may be writing this output: wait for it (the heavy half then finds its file up to date).
  const lock = await OutputLock.acquire(output, options.wait ?? 0, hooks.signal);
  // An update of an earlier output reads few runs, on this thread: no reader threads to start.
  const early = likelyUpdate || hooks.signal?.aborted === true ? undefined : startEarlyReaders(options);
  try {
    throwIfInterrupted(hooks.signal);
    const { runCompute } = await import("./computeRun.js");
    throwIfInterrupted(hooks.signal);
    return await runCompute(plan, hooks, early);
  } finally {
    // Unless the run took them over (it stops them itself), they are not needed.
    if (early !== undefined && !early.taken) void stopReaderThreads(early.readers);
    lock?.release();
  }
}

/** Database files at least this big get their reader threads started before the heavy half loads. */
const EARLY_READERS_MIN_BYTES = 64 * 1024 * 1024;

/** Reader threads started early, and whether the run took them over. */
export interface EarlyReaders {
  readonly readers: ReaderThreads;
  taken: boolean;
}

/**
 * Starts the reader threads of a run that will use them now, so that their
 * start-up (~0.3 s: a V8 isolate, the modules, the database) overlaps the
 * main thread's loading of SQLite, Arrow and DuckDB.
 */
function startEarlyReaders(options: ComputeOptions): EarlyReaders | undefined {
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (workers <= 1) return undefined;
  try {
    const stats = statSync(options.db);
    // A directory (a parquet export) is read by one DuckDB thread of its own, never by reader threads.
    if (stats.isDirectory() || (options.workers === undefined && stats.size < EARLY_READERS_MIN_BYTES)) return undefined;
  } catch {
    return undefined; // the full run reports what is wrong with the database
  }
  return { readers: startReaderThreads(resolve(options.db), workers - 1, options.immutable === true, options.filters ?? {}), taken: false };
}

/** Everything computeDrift decided before the heavy part. */
export interface ComputePlan {
  readonly options: ComputeOptions;
  readonly metric: Metric;
  readonly reference: ReferenceMode;
  readonly output: string;
  readonly excluded: string[];
  readonly started: number;
  /** Every file the run reads (the output guard's inputs). */
  readonly inputs: readonly ProtectedInput[];
}

/** The output guard for the frame and, with an embedder, the reference cache beside it. */
function guardOutputs(plan: ComputePlan): void {
  const { options, output, inputs } = plan;
  const overwrite = options.overwrite === true;
  // A missing directory is reported by the sink, after the database's own problems.
  guardOutput(output, { kind: "drift frame", label: "--out", remedy: "choose another --out", inputs, overwrite }, { place: false });
  if (options.embed !== undefined) guardOutput(referenceCachePath(output), referenceCachePolicy(inputs, overwrite), { place: false });
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

function quickFingerprint(db: string): InputFingerprint | undefined {
  try {
    return inputFingerprint(db);
  } catch {
    return undefined;
  }
}

/** undefined when a file cannot be read: the full run then reports why. */
function quickReferenceDigest(options: ComputeOptions, output: string): string | undefined {
  try {
    return currentReferenceDigest(options, output);
  } catch {
    return undefined;
  }
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

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
