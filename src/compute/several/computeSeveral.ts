import { join } from "node:path";
import { throwIfInterrupted } from "../../common/interruptCleanup.js";
import { parseJson } from "../../common/text.js";
import type { Metric } from "../../kernel/metric.js";
import { referenceCachePath, referenceCachePolicy } from "../../reference/referenceCacheFile.js";
import { readCacheMetadata, resultJson, settingsKeyValue, settingsMatch, type CacheSettings } from "../../sink/cacheMetadata.js";
import { guardOutput } from "../../sink/outputGuard.js";
import { OutputLock } from "../../sink/outputLock.js";
import { inputFingerprint } from "../../sources/inputFingerprint.js";
import { sourceKey } from "../../sources/sourcePaths.js";
import { baseSettings, currentReferenceDigest, upToDateResult, type ComputeHooks, type ComputeResult, type SourceCounts } from "../plan.js";
import { framePolicy, refuseEmptyFilters, refuseUnmatchedRuns, removeStaleWorkDirectories, singlePlan, workDirectory, type SeveralPlan } from "./severalPlan.js";
import { addResults, computeFrames, type FrameTask } from "./sourceFrames.js";
import { takeInventory } from "./sourceInventory.js";

/** What `source` records for a file made of several inputs. */
const SEVERAL_SOURCES = "several inputs";

/** The key of the per-input counts in such a file. */
const SOURCES_KEY = "panic_drift.sources";

/**
 * Several inputs into one file (a dataset is compute/dataset/'s). It is made by computing each input's frame (the single-input run, in a
 * work directory beside the output), then merging them, runs in the output's
 * order, into the output (atomically). Such a file is up to date while no
 * input changed; otherwise it is computed whole again (an update in part is
 * what a dataset is for).
 */
export async function computeSeveral(plan: SeveralPlan, hooks: ComputeHooks): Promise<ComputeResult> {
  const { options, output, metric } = plan;
  const fingerprints = () => fingerprintList(plan.paths.map((path) => [path, inputFingerprint(path)]));
  const settingsNow = (): CacheSettings => ({
    ...baseSettings(singlePlan(plan, plan.paths[0]!, output), currentReferenceDigest({ ...options, db: plan.paths[0]! }, output)),
    source: SEVERAL_SOURCES,
    input_fingerprint: fingerprints(),
  });
  let found = options.force === true ? undefined : readCacheMetadata(output);
  if (found !== undefined && settingsMatchQuietly(found, settingsNow)) {
    removeStaleWorkDirectories(output);
    return upToDate(found, output, metric, plan.started);
  }
  guardOutput(output, framePolicy(plan), { place: false });
  if (options.embed !== undefined) guardOutput(referenceCachePath(output), referenceCachePolicy(plan.inputs, options.overwrite === true), { place: false });
  const lock = await OutputLock.acquire(output, options.wait ?? 0, hooks.signal);
  const work = workDirectory(output);
  try {
    // Another run may have written it while this one waited for the lock.
    found = options.force === true ? undefined : readCacheMetadata(output);
    if (found !== undefined && settingsMatch(found, settingsNow())) return upToDate(found, output, metric, plan.started);
    const filters = options.filters ?? {};
    const { sources, warnings } = await takeInventory(plan.paths, { immutable: options.immutable === true, filters, signal: hooks.signal });
    refuseUnmatchedRuns(plan, sources.flatMap((s) => s.runs.map((r) => r.run_id)));
    // Each input's fingerprint as it was opened (an input left out as a copy of another is still one to watch).
    const settings = { ...settingsNow(), input_fingerprint: fingerprintList(plan.paths.map((path) => [path, sources.find((s) => s.path === path)?.fingerprint ?? inputFingerprint(path)])) };
    const tasks: FrameTask[] = sources
      .filter((input) => input.runs.length > 0)
      .map((input, i) => ({ input, runs: input.runs.map((r) => r.run_id), frame: join(work.path, `frame-${i}.parquet`) }));
    const frames = await computeFrames(singlePlan(plan, plan.paths[0]!, output), tasks, output, hooks);
    const total = addResults(frames.map((f) => f.result));
    refuseEmptyFilters(plan, total.rows);
    const counts: SourceCounts[] = sources.map((input) => {
      const frame = frames.find((f) => f.task.input === input);
      return { path: input.path, runs: input.runs.length, rows: frame?.result.rows ?? 0, rows_with_drift: frame?.result.rows_with_drift ?? 0, status: "computed" };
    });
    const allWarnings = [...warnings, ...total.warnings];
    const { FrameFiles } = await import("../../sink/frameFiles.js");
    const files = await FrameFiles.open(work.path);
    try {
      await files.load(frames.map((f) => f.task.frame), new Map(tasks.flatMap((t) => t.runs.map((r) => [r, 0] as const))), hooks.signal);
      throwIfInterrupted(hooks.signal);
      const result = { rows: String(total.rows), rows_with_drift: String(total.rows_with_drift), null_reasons: JSON.stringify(total.null_reasons), warnings: JSON.stringify(allWarnings) };
      await files.write(output, framePolicy(plan), "all", { ...settingsKeyValue(settings), [SOURCES_KEY]: JSON.stringify(counts), "panic_drift.result": resultJson(result) }, hooks.signal);
    } finally {
      files.close();
    }
    return {
      status: "computed",
      output,
      rows: total.rows,
      rows_with_drift: total.rows_with_drift,
      null_reasons: total.null_reasons,
      metric,
      warnings: allWarnings,
      seconds: (performance.now() - plan.started) / 1000,
      full_recompute_reason: options.force === true ? "forced" : found === undefined ? "no_earlier_output" : settingsMatch(found, settings, ["input_fingerprint"]) ? "several_inputs" : "other_settings",
      sources: counts,
    };
  } finally {
    work.remove();
    lock?.release();
  }
}

/** The inputs' fingerprints by absolute path, in path order: the same inputs named otherwise, or in another order, are the same inputs. */
function fingerprintList(pairs: [string, unknown][]): string {
  return JSON.stringify(pairs.map(([path, fingerprint]) => [sourceKey(path), fingerprint]).sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)));
}

function settingsMatchQuietly(found: Parameters<typeof settingsMatch>[0], settings: () => CacheSettings): boolean {
  try {
    return settingsMatch(found, settings());
  } catch {
    return false; // an input that cannot be read: the full run reports it
  }
}

function upToDate(found: Record<string, string | undefined>, output: string, metric: Metric, started: number): ComputeResult {
  return { ...upToDateResult(found, output, metric, started), sources: parseJson<SourceCounts[]>(found.sources, []) };
}
