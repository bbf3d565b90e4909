import { emptyReasonCounts, NULL_REASONS, type NullReason } from "../../kernel/nullReason.js";
import { readCacheMetadata, type CacheMetadata } from "../../sink/cacheMetadata.js";
import { inputFiles } from "../../sources/inputFiles.js";
import { throwIfInterrupted } from "../../common/interruptCleanup.js";
import type { ComputeHooks, ComputePlan, ComputeResult } from "../plan.js";
import type { SourceInventory } from "./sourceInventory.js";

/** One input's runs to compute, and the frame file they go to. */
export interface FrameTask {
  readonly input: SourceInventory;
  readonly runs: readonly string[];
  readonly frame: string;
}

/** A frame written, with its result and what it records (its snapshot and per-run tallies). */
export interface ComputedFrame {
  readonly task: FrameTask;
  readonly result: ComputeResult;
  readonly metadata: Partial<CacheMetadata>;
}

/**
 * Computes each task's runs of its input into its frame file, one input
 * after the other, each through the single-input run (its readers, its
 * references, --strict), with the reference cache beside `cacheOf`.
 */
export async function computeFrames(plan: ComputePlan, tasks: readonly FrameTask[], cacheOf: string, hooks: ComputeHooks): Promise<ComputedFrame[]> {
  const { runCompute } = await import("../driftRun.js");
  const computed: ComputedFrame[] = [];
  for (const task of tasks) {
    throwIfInterrupted(hooks.signal);
    const { options } = plan;
    const part: ComputePlan = {
      ...plan,
      options: { ...options, db: task.input.path, out: task.frame, force: true, overwrite: true, filters: { models: options.filters?.models ?? [], runs: task.runs } },
      output: task.frame,
      inputs: [...inputFiles(task.input.path), ...plan.inputs.filter((input) => input.what === "the --prompt-vectors file")],
      part: { referenceCacheOf: cacheOf },
    };
    const result = await runCompute(part, hooks);
    computed.push({ task, result, metadata: readCacheMetadata(task.frame) ?? {} });
  }
  return computed;
}

/** The counts of several results added up, their warnings once each. */
export function addResults(results: readonly Pick<ComputeResult, "rows" | "rows_with_drift" | "null_reasons" | "warnings">[]): {
  rows: number;
  rows_with_drift: number;
  null_reasons: Record<NullReason, number>;
  warnings: string[];
} {
  const nullReasons = emptyReasonCounts();
  for (const result of results) for (const reason of NULL_REASONS) nullReasons[reason] += result.null_reasons[reason];
  return {
    rows: results.reduce((n, r) => n + r.rows, 0),
    rows_with_drift: results.reduce((n, r) => n + r.rows_with_drift, 0),
    null_reasons: nullReasons,
    warnings: [...new Set(results.flatMap((r) => r.warnings))],
  };
}
