// Light: the up-to-date check of a dataset (a manifest read, a few stat calls); computeDataset.ts is loaded only when there is work.
import { currentReferenceDigest, baseSettings, type ComputeResult } from "../plan.js";
import { fileUnchanged, readManifest, type Shard } from "../../sink/datasetFiles.js";
import { inputFingerprint } from "../../sources/inputFingerprint.js";
import { sourceKey } from "../../sources/sourcePaths.js";
import { removeStaleWorkDirectories, singlePlan, type SeveralPlan } from "../several/severalPlan.js";

/** The dataset's settings now (the reference digest over the files as they are, the reference cache beside the directory included). */
export function datasetSettings(plan: SeveralPlan): Record<string, string> {
  return { ...baseSettings(singlePlan(plan, plan.paths[0]!, plan.output), currentReferenceDigest({ ...plan.options, db: plan.paths[0]! }, plan.output)) };
}

/** The up-to-date result without taking the lock, or undefined (work to do, or something to report: the full run says what). */
export function quickDatasetCheck(plan: SeveralPlan): ComputeResult | undefined {
  if (plan.options.force === true) return undefined;
  const found = upToDate(plan, plan.options.shard ?? { index: 0, count: 1 }, settingsQuietly(() => datasetSettings(plan)));
  if (found !== undefined) removeStaleWorkDirectories(plan.output);
  return found;
}

/** Settings equal, the fingerprint and source aside (they are per input). */
export function sameSettings(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function settingsQuietly(settings: () => Record<string, string>): Record<string, string> | undefined {
  try {
    return settings();
  } catch {
    return undefined;
  }
}

/** The up-to-date result when this shard's manifest matches the settings, every input's fingerprint and every file. */
export function upToDate(plan: SeveralPlan, shard: Shard, settings: Record<string, string> | undefined): ComputeResult | undefined {
  if (settings === undefined) return undefined;
  const manifest = readManifest(plan.output, shard);
  if (manifest === undefined || !sameSettings(manifest.settings, settings)) return undefined;
  // The same inputs (by absolute path, in any order, copies included), each as it was.
  const recorded = new Map([...manifest.sources, ...(manifest.copies ?? [])].map((source) => [source.path, source.fingerprint]));
  if (recorded.size !== plan.paths.length) return undefined;
  for (const path of plan.paths) {
    const fingerprint = recorded.get(sourceKey(path));
    if (fingerprint === undefined) return undefined;
    try {
      if (fingerprint !== JSON.stringify(inputFingerprint(path))) return undefined;
    } catch {
      return undefined;
    }
  }
  if (!manifest.files.every((file) => fileUnchanged(plan.output, file))) return undefined;
  const { result } = manifest;
  return {
    status: "up-to-date",
    output: plan.output,
    rows: result.rows,
    rows_with_drift: result.rows_with_drift,
    null_reasons: result.null_reasons,
    metric: plan.metric,
    warnings: result.warnings,
    seconds: (performance.now() - plan.started) / 1000,
    sources: manifest.sourceCounts.map((c) => ({ ...c, status: "kept" as const })),
    files: { written: 0, kept: manifest.files.length, removed: 0 },
  };
}

