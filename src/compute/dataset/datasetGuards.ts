/**
 * What a dataset directory must be before a run writes into it, and what a
 * run clears from it first: not an input, not a directory of someone else's,
 * one set of settings and one shard count; other shards' files when one
 * process takes the whole dataset over; what a killed run of this shard left.
 */
import { existsSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PanicDriftError } from "../../common/errors.js";
import { processAlive } from "../../common/processAlive.js";
import { listParts, manifestPath, readAllManifests, shardTag, type Manifest, type Shard } from "../../sink/datasetFiles.js";
import { STATE_DIRECTORY } from "../../sink/datasetState.js";
import type { SeveralPlan } from "../several/severalPlan.js";
import { sameSettings } from "./datasetUpToDate.js";

/** --out is one of the inputs (an export directory): refused, --overwrite or not. */
export function refuseInputDirectory(plan: SeveralPlan): void {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  const out = real(plan.output);
  const input = plan.paths.find((path) => real(path) === out);
  if (input !== undefined) throw new PanicDriftError("OUTPUT_IS_INPUT", `--out ${plan.output} is the input ${input}: choose another --out (a dataset is a directory of its own)`);
}

/** A directory with files in it that is not a dataset panic-drift made: only with --overwrite. */
export function refuseForeignDirectory(plan: SeveralPlan): void {
  const dir = plan.output;
  if (plan.options.overwrite === true || !existsSync(dir) || existsSync(join(dir, STATE_DIRECTORY))) return;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // a file: prepareDataset reports it
  }
  if (names.length > 0) {
    throw new PanicDriftError("OUTPUT_FOREIGN", `--out ${dir} is a directory panic-drift did not make (it holds ${names.length} entries and no ${STATE_DIRECTORY}/): choose an empty or new directory, or pass --overwrite to write the dataset into it`);
  }
}

/** The dataset's other shards were made with other settings, or by another shard count. */
export function refuseOtherSettings(plan: SeveralPlan, shard: Shard, settings: Record<string, string>, own: Manifest | undefined): void {
  const others = readAllManifests(plan.output).filter((m) => shardTag(m.shard) !== shardTag(shard));
  const otherCount = others.find((m) => m.shard.count !== shard.count);
  if (otherCount !== undefined && !(plan.options.force === true && shard.count === 1)) {
    throw new PanicDriftError(
      "DATASET_SETTINGS_DIFFER",
      `--out ${plan.output} holds shard ${otherCount.shard.index}/${otherCount.shard.count} of a dataset cut into ${otherCount.shard.count}, not ${shard.count}: use --shard i/${otherCount.shard.count}, or recompute it whole without --shard and with --force`,
    );
  }
  if (plan.options.force === true) return;
  const differs = [...(own === undefined ? [] : [{ shard, manifest: own }]), ...others].find((m) => !sameSettings(m.manifest.settings, settings));
  if (differs !== undefined) {
    const keys = Object.keys(settings).filter((k) => k !== "tool_version" && differs.manifest.settings[k] !== settings[k]);
    throw new PanicDriftError(
      "DATASET_SETTINGS_DIFFER",
      `--out ${plan.output} was computed with other settings (${keys.join(", ") || "tool version"}) than this run: the settings are one for the whole dataset; pass --force to compute it again with these, or choose another --out`,
    );
  }
}

/** --force without --shard: the whole dataset is this run's; other shards' files and manifests go. */
export function removeOtherShards(dir: string, shard: Shard): void {
  for (const part of listParts(dir)) if (shardTag(part.shard) !== shardTag(shard)) rmSync(join(dir, part.name), { force: true });
  for (const { shard: other } of readAllManifests(dir)) if (shardTag(other) !== shardTag(shard)) rmSync(manifestPath(dir, other), { force: true });
}

/**
 * This shard's part files the manifest does not list, and its part files'
 * temporary files: left by a run that was killed before writing its manifest
 * (or while writing a file).
 */
export function removeOrphans(dir: string, shard: Shard, manifest: Manifest | undefined): void {
  const listed = new Set((manifest?.files ?? []).map((f) => f.name));
  for (const part of listParts(dir)) {
    if (shardTag(part.shard) === shardTag(shard) && !listed.has(part.name)) rmSync(join(dir, part.name), { force: true });
  }
  const temporary = new RegExp(`^\\.part-${shardTag(shard)}-\\d+\\.parquet\\.tmp-(\\d+)-`);
  for (const partition of readdirSync(dir).filter((n) => n.startsWith("experiment_id="))) {
    for (const name of readdirSync(join(dir, partition))) {
      const pid = temporary.exec(name)?.[1];
      if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(dir, partition, name), { force: true });
    }
  }
}
