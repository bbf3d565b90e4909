// The light half of a compute: the up-to-date check, the output guard and the lock.
// Light imports only: the up-to-date path must not load DuckDB, Arrow or SQLite
// (the heavy half, driftRun.ts, is imported only once there is work to do).
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { usageError } from "../common/errors.js";
import { referenceCachePath, referenceCachePolicy } from "../reference/referenceCacheFile.js";
import { guardOutput, type ProtectedInput } from "../sink/outputGuard.js";
import { defaultOutputPath } from "../sink/defaultFramePath.js";
import { inputFiles } from "../sources/inputFiles.js";
import { sourcePaths } from "../sources/sourcePaths.js";
import { OutputLock } from "../sink/outputLock.js";
import { readCacheMetadata, settingsMatch } from "../sink/cacheMetadata.js";
import { startReaderThreads, stopReaderThreads } from "../threads/readerThreads.js";
import { inputFingerprint, type InputFingerprint } from "../sources/inputFingerprint.js";
import { interruptedError, throwIfInterrupted } from "../common/interruptCleanup.js";
import {
  baseSettings,
  currentReferenceDigest,
  DEFAULT_EXCLUDED_PROMPTS,
  upToDateResult,
  type ComputeHooks,
  type ComputeOptions,
  type ComputePlan,
  type SingleInputOptions,
  type ComputeResult,
  type EarlyReaders,
} from "./plan.js";
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
    if (signal?.aborted !== true) throw error;
    // A dataset's files are replaced one by one: some may be new already.
    throw layoutOf(options) === "dataset" ? interruptedError(signal, "each file of the dataset is whole and holds its runs once; the next run finishes the update") : interruptedError(signal);
  }
}

async function compute(given: ComputeOptions, hooks: ComputeHooks): Promise<ComputeResult> {
  const started = performance.now();
  const metric = given.metric ?? "euclid";
  const excluded = [...new Set(given.excludePrompts ?? DEFAULT_EXCLUDED_PROMPTS)].sort();
  const reference = given.reference ?? "prompt";
  if (reference !== "prompt" && (given.promptVectors !== undefined || given.embed !== undefined)) {
    throw usageError(`--reference ${reference} measures against the runs' own embeddings: --prompt-vectors and --embed-* do not apply`);
  }
  const layout = layoutOf(given);
  const paths = typeof given.db === "string" ? [given.db] : sourcePaths(given.db);
  if (paths.length === 0) throw usageError("missing --db FILE (or set DATABASE_PATH)");
  if (given.shard !== undefined && layout !== "dataset") throw usageError("--shard writes its share of a dataset: give --out DIR/ (a directory)");
  const vectorsFile: ProtectedInput[] = given.promptVectors === undefined ? [] : [{ path: given.promptVectors, what: "the --prompt-vectors file" }];
  if (layout === "dataset" || paths.length > 1) {
    if (given.out === undefined) throw usageError("several inputs go to one output: give --out FILE.parquet, or --out DIR/ for a dataset");
    const several = { options: given, paths, metric, reference, excluded, started, output: resolve(given.out), inputs: [...paths.flatMap((path) => inputFiles(path)), ...vectorsFile] };
    if (layout === "dataset") {
      const { quickDatasetCheck } = await import("./dataset/datasetUpToDate.js");
      const upToDate = quickDatasetCheck(several);
      if (upToDate !== undefined) return upToDate;
      const { computeDataset } = await import("./dataset/computeDataset.js");
      return await computeDataset(several, hooks);
    }
    const { computeSeveral } = await import("./several/computeSeveral.js");
    return await computeSeveral(several, hooks);
  }
  const options = { ...given, db: paths[0]! };
  const output = resolve(options.out ?? defaultOutputPath(options.db));
  const inputs: ProtectedInput[] = [...inputFiles(options.db), ...vectorsFile];
  const plan: ComputePlan = { options, metric, reference, output, excluded, started, inputs };
  let likelyUpdate = false;
  if (!options.force) {
    const found = readCacheMetadata(output);
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
    const { runCompute } = await import("./driftRun.js");
    throwIfInterrupted(hooks.signal);
    return await runCompute(plan, hooks, early);
  } finally {
    // Unless the run took them over (it stops them itself), they are not needed.
    if (early !== undefined && !early.taken) void stopReaderThreads(early.readers);
    lock?.release();
  }
}

/** `file` or `dataset`: as given, else a dataset when --out is a directory. */
function layoutOf(options: ComputeOptions): "file" | "dataset" {
  return options.layout ?? (options.out !== undefined && isDirectoryPath(options.out) ? "dataset" : "file");
}

/** An existing directory, or a path written as one (ending in `/`). */
function isDirectoryPath(path: string): boolean {
  if (path.endsWith("/")) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Database files at least this big get their reader threads started before the heavy half loads. */
const EARLY_READERS_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Starts the reader threads of a run that will use them now, so that their
 * start-up (~0.3 s: a V8 isolate, the modules, the database) overlaps the
 * main thread's loading of SQLite, Arrow and DuckDB.
 */
function startEarlyReaders(options: SingleInputOptions): EarlyReaders | undefined {
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

/** The output guard for the frame and, with an embedder, the reference cache beside it. */
function guardOutputs(plan: ComputePlan): void {
  const { options, output, inputs } = plan;
  const overwrite = options.overwrite === true;
  // A missing directory is reported by the sink, after the database's own problems.
  guardOutput(output, { kind: "drift frame", label: "--out", remedy: "choose another --out", inputs, overwrite }, { place: false });
  if (options.embed !== undefined) guardOutput(referenceCachePath(output), referenceCachePolicy(inputs, overwrite), { place: false });
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

