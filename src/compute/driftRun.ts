import { availableParallelism } from "node:os";
import { localDriftStream, type DriftStream } from "../stream/driftStream.js";
import { PanicDriftError } from "../common/errors.js";
import type { ReferencePair } from "../frame/referencePairs.js";
import { dimensionMismatchMessages, missingReferenceMessages } from "../kernel/driftTally.js";
import type { Metric } from "../kernel/metric.js";
import type { NullReason } from "../kernel/nullReason.js";
import { workerDriftStream } from "../threads/workerDriftStream.js";
import { embedMissingReferences } from "../reference/embedMissing.js";
import { baseSettings, currentReferenceDigest, refuseFilteredReplacement, upToDateResult, type ComputeHooks, type EarlyReaders, type ComputeOptions, type ComputePlan, type ComputeResult } from "./plan.js";
import { readPromptVectorsFile } from "../reference/promptVectorsFile.js";
import { referenceCachePolicy } from "../reference/referenceCacheFile.js";
import { ReferenceResolver, type ReferenceVectors } from "../reference/referenceResolver.js";
import { incrementalUpdate, type IncrementalUpdate } from "./update/incrementalUpdate.js";
import type { FullRecomputeReason } from "./update/fullRecomputeReason.js";
import { runTalliesJson, type DriftTally } from "../kernel/driftTally.js";
import { readCacheMetadata, resultJson, settingsKeyValue, settingsMatch, SNAPSHOT_KEY, type CacheSettings } from "../sink/cacheMetadata.js";
import type { DriftSource } from "../sources/driftSource.js";
import { openSource } from "../sources/openSource.js";
import { unmatchedFilterError } from "../sources/runRecords.js";
import { filtersText } from "../sources/sourceFilters.js";
import { PYTHON_ERA } from "../sources/sqlite/sqliteLayouts.js";
import { SqliteDriftSource } from "../sources/sqlite/sqliteSource.js";
import { throwIfInterrupted } from "../common/interruptCleanup.js";

/** Below this many embedding rows one reader on the main thread is faster. */
const PARALLEL_MIN_ROWS = 20_000;

/**
 * The heavy half of computeDrift (loaded only when the quick up-to-date
 * check did not settle it): open the database, check again with the
 * fingerprint taken after opening, then compute and write.
 */
export async function runCompute(plan: ComputePlan, hooks: ComputeHooks, early?: EarlyReaders): Promise<ComputeResult> {
  const { options, metric, output, excluded, started } = plan;
  const cacheOf = plan.part?.referenceCacheOf ?? output;
  const { signal } = hooks;
  const source = openSource(options.db, { immutable: options.immutable === true, filters: options.filters ?? {} });
  try {
    const unmatched = plan.part === undefined ? source.unmatchedFilters() : [];
    if (unmatched.length > 0) throw unmatchedFilterError(unmatched, source.path);
    const found = readCacheMetadata(output);
    throwIfInterrupted(signal);
    refuseFilteredReplacement(plan, found);
    if (plan.reference !== "prompt" && !source.ordered) {
      throw new PanicDriftError(
        "DB_MISSING_INDEX",
        `--reference ${plan.reference} reads whole runs through the indexes on the invocations' run_id and the embeddings' invocation_id, which ${source.path} lacks: recreate them (${(source instanceof SqliteDriftSource ? source.layout : PYTHON_ERA).indexes.join("; ")}) on a copy, or use --reference prompt`,
      );
    }
    const userVectors = options.promptVectors === undefined ? [] : await readPromptVectorsFile(options.promptVectors, signal);
    throwIfInterrupted(signal);
    // The input's own reference vectors (a parquet export's prompt rows): below the file, above the built-ins.
    const stored = plan.reference === "prompt" ? (source.storedReferences?.() ?? []) : [];
    // The reference cache's vectors, after fetching what nothing else provides (see ReferenceResolver for which origin wins).
    const cache =
      options.embed === undefined
        ? []
        : await embedMissingReferences(source, { file: userVectors, stored }, options.embed, cacheOf, new Set(excluded), referenceCachePolicy(plan.inputs, options.overwrite === true), signal);
    throwIfInterrupted(signal);
    const references: ReferenceVectors = { file: userVectors, stored, cache };
    const settings: CacheSettings = {
      ...baseSettings(plan, currentReferenceDigest(options, cacheOf)),
      source: source.description,
      input_fingerprint: JSON.stringify(source.fingerprint),
    };

    let update: IncrementalUpdate | undefined;
    let fullReason: FullRecomputeReason = "forced";
    let checkSeconds = 0;
    if (!options.force) {
      if (found !== undefined && settingsMatch(found, settings)) return upToDateResult(found, output, metric, started);
      const checking = performance.now();
      const planned = incrementalUpdate(found, settings, source, output);
      if (typeof planned === "string") fullReason = planned;
      else update = planned;
      checkSeconds = (performance.now() - checking) / 1000;
    }
    // What the next update compares against (taken inside the read snapshot, before reading); a dataset's part keeps its own (its manifest).
    const snapshot = update?.state ?? (source.ordered && plan.part === undefined ? source.snapshotState?.() : undefined);
    const metadata = { ...settingsKeyValue(settings), ...(snapshot === undefined ? {} : { [`panic_drift.${SNAPSHOT_KEY}`]: JSON.stringify(snapshot) }) };

    // Readers start first; DuckDB loads and the sink opens while their threads boot.
    // An update reads few runs: one reader on this thread.
    // Through a promise so that a reader that fails to open is settled beside the sink below, not thrown past it.
    const streamReady = new Promise<DriftStream>((resolve) => {
      resolve(openDriftStream(source, references, metric, new Set(excluded), update === undefined ? options : { ...options, workers: 1 }, early));
    });
    const framePolicy = { kind: "drift frame", label: "--out", remedy: "choose another --out", inputs: plan.inputs, overwrite: options.overwrite === true } as const;
    const sinkReady = import("../sink/parquetSink.js").then(({ ParquetSink }) => ParquetSink.open(output, framePolicy));
    const [streamOpened, sinkOpened] = await Promise.allSettled([streamReady, sinkReady]);
    if (streamOpened.status === "rejected" || sinkOpened.status === "rejected" || signal?.aborted === true) {
      if (streamOpened.status === "fulfilled") await streamOpened.value.close();
      if (sinkOpened.status === "fulfilled") sinkOpened.value.abort();
      // An unwritable output is the cheaper mistake to report first.
      throwIfInterrupted(signal);
      throw sinkOpened.status === "rejected" ? sinkOpened.reason : (streamOpened as PromiseRejectedResult).reason;
    }
    const sink = sinkOpened.value;
    const stream = streamOpened.value;
    try {
      const writing = performance.now();
      await sink.write(stream, source.runRecords(), metadata, () => hooks.onProgress?.(stream.progress()), { previous: update?.previous, signal });
      const writeSeconds = (performance.now() - writing) / 1000;
      const tally = stream.tally();
      update?.addKept(tally);
      const counts = runCounts(stream, tally);
      const filters = filtersText(options.filters);
      if (filters !== "" && counts.rows === 0 && plan.part === undefined) {
        throw new PanicDriftError("FILTER_MATCHES_NOTHING", `${filters} together match no text embedding of ${source.path}: check the filters; nothing was written`);
      }
      if (options.strict) refuseBadReferences(counts, tally);
      const warnings = counts.warnings;
      // The last moment to stop: from here to the rename all is synchronous, and after it the run is done.
      throwIfInterrupted(signal);
      sink.finish(
        resultJson(
          {
            rows: String(counts.rows),
            rows_with_drift: String(counts.rowsWithDrift),
            null_reasons: JSON.stringify(counts.nullReasons),
            warnings: JSON.stringify(warnings),
            run_tallies: snapshot === undefined && plan.part === undefined ? undefined : runTalliesJson(tally.runs),
            bad_timestamps: snapshot === undefined ? undefined : String(stream.badTimestamps()),
          },
        ),
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
        ...(update === undefined
          ? { full_recompute_reason: fullReason }
          : { updated: { recomputed_runs: update.recomputed, kept_runs: update.kept, check_seconds: checkSeconds, write_seconds: writeSeconds } }),
      };
    } catch (error) {
      sink.abort();
      // The sink may have stopped pulling (a full disk): stop the readers, or their threads keep the process alive.
      await stream.close();
      throw error;
    }
  } finally {
    source.close();
  }
}

/**
 * --strict: every row left NULL by its reference's fault is an error, and
 * nothing is written: a missing reference, a zero one, or one whose
 * dimension differs from the row's vector.
 */
function refuseBadReferences(counts: RunCounts, tally: DriftTally): void {
  if (counts.missing.length > 0) throw new PanicDriftError("MISSING_REFERENCES", `--strict: ${counts.missing[0]}; nothing was written`);
  const [model, mismatch] = Object.entries(tally.mismatched).sort(([a], [b]) => (a < b ? -1 : 1))[0] ?? [];
  if (model !== undefined && mismatch !== undefined) {
    const dimensions = [...mismatch.dimensions].sort((a, b) => a - b).join(", ");
    throw new PanicDriftError(
      "BAD_REFERENCES",
      `--strict: the reference vectors of embedding model ${model} have dimension ${mismatch.reference}, its ${mismatch.rows} vectors ${dimensions}: give references made by that model (--prompt-vectors); nothing was written`,
    );
  }
  const zero = tally.nullReasons.zero_reference;
  if (zero > 0) {
    throw new PanicDriftError(
      "BAD_REFERENCES",
      `--strict: ${zero} rows have a reference vector of length zero (no direction to measure against): check the vectors given with --prompt-vectors (or the runs' first embeddings under --reference first/previous); nothing was written`,
    );
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

function openDriftStream(
  source: DriftSource,
  references: ReferenceVectors,
  metric: Metric,
  excludePrompts: ReadonlySet<string>,
  options: ComputeOptions,
  early: EarlyReaders | undefined,
): DriftStream {
  const resolver = new ReferenceResolver(references);
  const streamOptions = {
    excludePrompts,
    reference: options.reference ?? "prompt",
    metric,
    batchRows: options.batchRows ?? 2048,
    lookup: (pair: ReferencePair) => resolver.resolve(pair)?.vector,
  };
  // A source read by one thread of its own (a parquet export) gets no parallel readers.
  const workers = Math.min(options.workers ?? defaultWorkers(source), source.maxReaders ?? Infinity);
  if (workers <= 1) return localDriftStream(source, streamOptions);
  const started = early?.readers.threads.length === workers - 1 ? early : undefined;
  if (started !== undefined) started.taken = true;
  return workerDriftStream(
    source,
    { ...streamOptions, workers, references, immutable: options.immutable === true, filters: options.filters ?? {} },
    started?.readers,
  );
}

function runCounts(stream: DriftStream, tally: DriftTally): RunCounts {
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
  const rows = source.estimatedRows();
  return rows < PARALLEL_MIN_ROWS ? 1 : Math.max(1, Math.min(2, availableParallelism()));
}
