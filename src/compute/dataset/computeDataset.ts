import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { throwIfInterrupted } from "../../common/interruptCleanup.js";
import { addRunTally, dimensionMismatchMessages, emptyTally, missingReferenceMessages, parseRunTallies, runTalliesJson, type DriftTally, type RunTally } from "../../kernel/driftTally.js";
import { referenceCachePath, referenceCachePolicy } from "../../reference/referenceCacheFile.js";
import { resultJson, settingsKeyValue, type CacheSettings } from "../../sink/cacheMetadata.js";
import {
  fileStamp,
  fileUnchanged,
  listParts,
  manifestPath,
  partFileName,
  prepareDataset,
  readManifest,
  shardTag,
  writeManifest,
  type Manifest,
  type ManifestFile,
  type RunSignature,
  type Shard,
} from "../../sink/datasetFiles.js";
import { guardOutput } from "../../sink/outputGuard.js";
import { OutputLock } from "../../sink/outputLock.js";
import { runRecordDigest, type SnapshotState } from "../../sources/snapshotState.js";
import { sourceKey } from "../../sources/sourcePaths.js";
import { type ComputeHooks, type ComputeResult, type SourceCounts } from "../plan.js";
import { planUpdate } from "../update/updatePlan.js";
import { framePolicy, refuseEmptyFilters, refuseUnmatchedRuns, singlePlan, workDirectory, type SeveralPlan } from "../several/severalPlan.js";
import { computeFrames, type FrameTask } from "../several/sourceFrames.js";
import { takeInventory, type SourceInventory } from "../several/sourceInventory.js";
import { planParts } from "./datasetPlan.js";
import { refuseForeignDirectory, refuseInputDirectory, refuseOtherSettings, removeOrphans, removeOtherShards } from "./datasetGuards.js";
import { datasetSettings, sameSettings, upToDate } from "./datasetUpToDate.js";
import { shardOf } from "./shard.js";

/** What an update learned of one input while it was open. */
interface Examined {
  /** Runs to read again ("all": every run of this shard). */
  recompute: ReadonlySet<string> | "all";
  /** This shard's runs now, with their signatures (from the snapshot state where the input has one). */
  signatures: Map<string, RunSignature>;
  embeddings: SnapshotState["embeddings"] | null;
}

/**
 * A compute into a dataset directory (see sink/datasetFiles.ts for the
 * layout): each input's runs, this shard's share of them, live in part
 * files of its experiment's partition. The manifest of the shard records
 * what each file holds and each input's state; an update reads only the
 * runs that changed (a SQLite input with the indexes tells which; a parquet
 * export that changed is read whole) and writes only the files that hold
 * them (see datasetPlan.ts). Files are replaced one by one, atomically, in
 * an order that never shows a run twice; the manifest is written last.
 */
export async function computeDataset(plan: SeveralPlan, hooks: ComputeHooks): Promise<ComputeResult> {
  const { options, output: dir, metric } = plan;
  const shard: Shard = options.shard ?? { index: 0, count: 1 };
  const { signal } = hooks;
  // Beside the directory, not in it: DuckDB's `DIR/**/*.parquet` would read any parquet file inside (see also the work directory below).
  const cacheOf = dir;
  refuseInputDirectory(plan);
  const settings = () => datasetSettings(plan);
  refuseForeignDirectory(plan);
  prepareDataset(dir);
  if (options.embed !== undefined) guardOutput(referenceCachePath(cacheOf), referenceCachePolicy(plan.inputs, options.overwrite === true), { place: false });
  const lock = await OutputLock.acquire(manifestPath(dir, shard), options.wait ?? 0, signal);
  const work = workDirectory(dir);
  try {
    const now = settings();
    const again = options.force === true ? undefined : upToDate(plan, shard, now);
    if (again !== undefined) return again;
    let manifest = readManifest(dir, shard);
    refuseOtherSettings(plan, shard, now, manifest);
    const fullReason = options.force === true ? "forced" : manifest === undefined ? "no_earlier_output" : undefined;
    if (options.force === true && shard.count === 1) removeOtherShards(dir, shard);
    if (manifest !== undefined && !sameSettings(manifest.settings, now)) manifest = undefined;
    removeOrphans(dir, shard, manifest);

    // Each input, while open: its runs of this shard, and which changed since the manifest.
    const examined = new Map<string, Examined>();
    const { sources, copies, warnings } = await takeInventory(plan.paths, {
      immutable: options.immutable === true,
      filters: options.filters ?? {},
      signal,
      examine: (source, inventory) => {
        const mine = inventory.runs.filter((run) => shardOf(run.run_id, shard.count) === shard.index);
        const index = manifest?.sources.findIndex((s) => s.path === sourceKey(inventory.path)) ?? -1;
        const previous = index < 0 ? undefined : { source: manifest!.sources[index]!, files: manifest!.files.filter((f) => f.source === index) };
        const mineIds = new Set(mine.map((run) => run.run_id));
        const clean = options.force !== true && previous !== undefined && previous.source.fingerprint === JSON.stringify(inventory.fingerprint);
        // What changed since the manifest, when the input can tell (one pass over its indexes, which also gives the state now).
        const before = !clean && options.force !== true && previous?.source.embeddings != null && source.ordered ? previousState(previous.files, previous.source.embeddings) : undefined;
        const changes = before === undefined ? undefined : source.snapshotChanges?.(before.state);
        const state = changes?.state ?? (source.ordered ? source.snapshotState?.() : undefined);
        const stateOf = new Map((state?.runs ?? []).map((signature) => [signature[0], signature]));
        const signatures = new Map<string, RunSignature>(mine.map((run) => [run.run_id, stateOf.get(run.run_id) ?? [run.run_id, 0, 0, runRecordDigest(run)]]));
        let recompute: ReadonlySet<string> | "all" = clean ? new Set() : "all";
        if (before !== undefined && changes !== undefined) {
          const ours = { ...changes, state: { ...changes.state, runs: changes.state.runs.filter(([id]) => mineIds.has(id)) } };
          const planned = planUpdate(before.state, before.tallies, ours);
          if (!("full" in planned)) recompute = planned.recompute;
        }
        examined.set(inventory.path, { recompute, signatures, embeddings: state?.embeddings ?? null });
      },
    });
    refuseUnmatchedRuns(plan, sources.flatMap((s) => s.runs.map((r) => r.run_id)));
    throwIfInterrupted(signal);

    // Which files stay, which are written, which go.
    const previousFiles = manifest?.files ?? [];
    const plans = sources.map((input) => {
      const before = manifest?.sources.findIndex((s) => s.path === sourceKey(input.path)) ?? -1;
      const files = previousFiles.filter((f) => f.source === before);
      const { recompute, signatures } = examined.get(input.path)!;
      const current = input.runs.filter((run) => signatures.has(run.run_id)).map((run) => ({ runId: run.run_id, experimentId: run.experiment_id }));
      return planParts(files, (file) => fileUnchanged(dir, file), current, recompute, options.runsPerFile);
    });
    const gone = previousFiles.filter((f) => !sources.some((input) => sourceKey(input.path) === manifest!.sources[f.source]?.path)).map((f) => f.name);
    let sequence = Math.max(0, ...listParts(dir).filter((p) => shardTag(p.shard) === shardTag(shard)).map((p) => p.sequence));
    const writes: { name: string; input: number; runs: string[]; group: number }[] = [];
    plans.forEach((parts, input) => {
      for (const { name, runs } of parts.rewrite) writes.push({ name, input, runs, group: writes.length });
    });
    const rewrites = writes.length;
    plans.forEach((parts, input) => {
      for (const { partition, runs } of parts.add) writes.push({ name: partFileName(partition, shard, ++sequence), input, runs, group: writes.length });
    });

    // Each input's runs to compute, in the output's order, into a frame of its own.
    const tasks: FrameTask[] = [];
    sources.forEach((input, i) => {
      const wanted = new Set(writes.filter((w) => w.input === i).flatMap((w) => w.runs));
      const runs = input.runs.map((r) => r.run_id).filter((id) => wanted.has(id));
      if (runs.length > 0) tasks.push({ input, runs, frame: join(work.path, `frame-${i}.parquet`) });
    });
    const checkSeconds = (performance.now() - plan.started) / 1000;
    const writing = performance.now();
    const frames = await computeFrames(singlePlan(plan, plan.paths[0]!, dir), tasks, cacheOf, hooks);
    const tallyOf = new Map<string, RunTally>();
    for (const frame of frames) {
      const tallies = parseRunTallies(frame.metadata.run_tallies) ?? {};
      frame.task.runs.forEach((runId, index) => {
        const tally = tallies[index];
        if (tally !== undefined) tallyOf.set(runId, tally);
      });
    }
    for (const file of plans.flatMap((p) => p.keep)) {
      const tallies = parseRunTallies(file.tallies) ?? {};
      file.runs.forEach(([runId], index) => {
        const tally = tallies[index];
        if (tally !== undefined) tallyOf.set(runId, tally);
      });
    }

    // Write: files that lose runs first, then new files (a run that moved is briefly in none, never in two).
    const written: ManifestFile[] = [];
    const { FrameFiles } = await import("../../sink/frameFiles.js");
    const files = await FrameFiles.open(work.path);
    try {
      // One input's rows at a time (memory is bounded by the largest input's share), each row loaded once.
      const writeAll = async (batch: readonly (typeof writes)[number][]) => {
        for (const [i] of sources.entries()) {
          const mine = batch.filter((w) => w.input === i);
          if (mine.length === 0) continue;
          const frame = frames.find((f) => f.task.input === sources[i]);
          await files.load(frame === undefined ? [] : [frame.task.frame], new Map(mine.flatMap((w) => w.runs.map((r) => [r, w.group] as const))), signal);
          for (const w of mine) await writeOne(w);
        }
      };
      const writeOne = async (w: (typeof writes)[number]) => {
        throwIfInterrupted(signal);
        const input = sources[w.input]!;
        const { signatures } = examined.get(input.path)!;
        const runs = w.runs.map((id) => signatures.get(id)!);
        const tallies = runs.map(([id]) => tallyOf.get(id));
        const metadata = partMetadata(now, input, shard, w.name, runs, tallies);
        mkdirSync(dirname(join(dir, w.name)), { recursive: true });
        await files.write(join(dir, w.name), partPolicy(plan), w.group, metadata, signal);
        const stamp = fileStamp(join(dir, w.name))!;
        written.push({ name: w.name, ...stamp, source: w.input, runs, tallies: runTalliesJson(indexed(tallies)) });
      };
      await writeAll(writes.slice(0, rewrites));
      // An input no longer given: its files go (the dataset is what the inputs hold).
      for (const name of gone) rmSync(join(dir, name), { force: true });
      await writeAll(writes.slice(rewrites));
    } finally {
      files.close();
    }

    // The manifest: every file of this shard, each input's state, the counts.
    const kept = plans.flatMap((p, input) => p.keep.map((f) => ({ ...f, source: input })));
    const allFiles = [...kept, ...written].sort((a, b) => (a.name < b.name ? -1 : 1));
    const totals = sources.map((input, i) => sourceTally(input, allFiles.filter((f) => f.source === i), tallyOf));
    const total = emptyTally();
    const frameWarnings = frames.flatMap((frame) => {
      const own = sourceTally(frame.task.input, [], new Map(frame.task.runs.flatMap((id) => (tallyOf.has(id) ? [[id, tallyOf.get(id)!] as const] : []))));
      const derived = new Set([...missingReferenceMessages(own), ...dimensionMismatchMessages(own)]);
      return frame.result.warnings.filter((w) => !derived.has(w));
    });
    let next = 0;
    totals.forEach((t, i) => {
      for (const [index, run] of Object.entries(t.runs)) addRunTally(total, next++, run, sources[i]!.runs[Number(index)]!.initial_prompt);
    });
    const sum = { rows: total.rows, rows_with_drift: total.rowsWithDrift, null_reasons: total.nullReasons };
    refuseEmptyFilters(plan, sum.rows);
    const allWarnings = [...new Set([...warnings, ...frameWarnings, ...missingReferenceMessages(total), ...dimensionMismatchMessages(total)])];
    const counts: SourceCounts[] = sources.map((input, i) => ({
      path: input.path,
      runs: examined.get(input.path)!.signatures.size,
      rows: totals[i]!.rows,
      rows_with_drift: totals[i]!.rowsWithDrift,
      status: tasks.some((t) => t.input === input) ? "computed" : "kept",
    }));
    const record: Manifest = {
      format: "1",
      shard: [shard.index, shard.count],
      settings: now,
      sources: sources.map((input) => ({
        path: sourceKey(input.path),
        description: input.description,
        fingerprint: JSON.stringify(input.fingerprint),
        embeddings: examined.get(input.path)!.embeddings,
      })),
      copies: copies.map((copy) => ({ path: sourceKey(copy.path), fingerprint: JSON.stringify(copy.fingerprint) })),
      files: allFiles,
      result: { rows: sum.rows, rows_with_drift: sum.rows_with_drift, null_reasons: sum.null_reasons, warnings: allWarnings },
      sourceCounts: counts.map(({ path, runs, rows, rows_with_drift }) => ({ path, runs, rows, rows_with_drift })),
    };
    writeManifest(dir, shard, record, plan.inputs);
    const recomputed = tasks.reduce((n, t) => n + t.runs.length, 0);
    const keptRuns = kept.reduce((n, f) => n + f.runs.length, 0);
    return {
      status: "computed",
      output: dir,
      rows: sum.rows,
      rows_with_drift: sum.rows_with_drift,
      null_reasons: sum.null_reasons,
      metric,
      warnings: allWarnings,
      seconds: (performance.now() - plan.started) / 1000,
      ...(fullReason === undefined
        ? { updated: { recomputed_runs: recomputed, kept_runs: keptRuns, check_seconds: checkSeconds, write_seconds: (performance.now() - writing) / 1000 } }
        : { full_recompute_reason: fullReason }),
      sources: counts,
      files: { written: written.length, kept: kept.length, removed: gone.length },
    };
  } finally {
    work.remove();
    lock?.release();
  }
}

/** The state and per-run tallies an input's files recorded, as planUpdate compares them. */
function previousState(files: readonly ManifestFile[], embeddings: SnapshotState["embeddings"]): { state: SnapshotState; tallies: Record<string, RunTally> } {
  const runs: { signature: RunSignature; tally: RunTally | undefined }[] = [];
  for (const file of files) {
    const tallies = parseRunTallies(file.tallies) ?? {};
    file.runs.forEach((signature, index) => runs.push({ signature, tally: tallies[index] }));
  }
  runs.sort((a, b) => Buffer.compare(Buffer.from(a.signature[0]), Buffer.from(b.signature[0])));
  const tallies: Record<string, RunTally> = {};
  runs.forEach(({ tally }, index) => {
    if (tally !== undefined) tallies[index] = tally;
  });
  return { state: { runs: runs.map((r) => r.signature), embeddings }, tallies };
}

/** An input's tally over its runs in `files` (or, with no files, over every run in `tallies`). */
function sourceTally(input: SourceInventory, files: readonly ManifestFile[], tallies: ReadonlyMap<string, RunTally>): DriftTally {
  const tally = emptyTally();
  const wanted = files.length === 0 ? undefined : new Set(files.flatMap((f) => f.runs.map(([id]) => id)));
  input.runs.forEach((run, index) => {
    const runTally = tallies.get(run.run_id);
    if (runTally !== undefined && (wanted === undefined || wanted.has(run.run_id))) addRunTally(tally, index, runTally, run.initial_prompt);
  });
  return tally;
}

function indexed<T>(values: readonly (T | undefined)[]): Record<number, T> {
  const out: Record<number, T> = {};
  values.forEach((value, index) => {
    if (value !== undefined) out[index] = value;
  });
  return out;
}

/** A part file's key-value metadata: the single file's settings and result, and the runs it holds with their signatures. */
function partMetadata(settings: Record<string, string>, input: SourceInventory, shard: Shard, name: string, runs: RunSignature[], tallies: (RunTally | undefined)[]): Record<string, string> {
  const tally = emptyTally();
  runs.forEach(([id], index) => {
    const runTally = tallies[index];
    if (runTally !== undefined) addRunTally(tally, index, runTally, input.runs.find((r) => r.run_id === id)?.initial_prompt ?? "");
  });
  return {
    ...settingsKeyValue({ ...(settings as unknown as CacheSettings), source: input.description, input_fingerprint: JSON.stringify(input.fingerprint) }),
    "panic_drift.dataset": JSON.stringify({ part: name, shard: [shard.index, shard.count], input: input.path }),
    "panic_drift.runs": JSON.stringify(runs),
    "panic_drift.result": resultJson({
      rows: String(tally.rows),
      rows_with_drift: String(tally.rowsWithDrift),
      null_reasons: JSON.stringify(tally.nullReasons),
      warnings: JSON.stringify([...missingReferenceMessages(tally), ...dimensionMismatchMessages(tally)]),
      run_tallies: runTalliesJson(tally.runs),
    }),
  };
}

function partPolicy(plan: SeveralPlan) {
  return { ...framePolicy(plan), label: "the part file", datasetPart: true } as const;
}
