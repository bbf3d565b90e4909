/** What the layout writers share: the plan to write, the experiment's times, the image bytes. */
import type { EmbeddingPlan } from "./embeddings.js";
import { BASE_MICROS } from "./encodings.js";
import type { LayoutSelection } from "./layout.js";
import type { Rng } from "./rng.js";
import type { InvocationPlan, RunPlan } from "./runs.js";
import type { Settings } from "./settings.js";
import type { VectorMaker } from "./vectors.js";

export interface ExperimentTimes {
  /** Before the first run: the second generation's migrations and insert times count from here. */
  t0: number;
  started: number;
  /** Null while any run is unfinished (or with edge cases, which include one). */
  completed: number | null;
}

export function experimentTimes(s: Settings, runCount: number): ExperimentTimes {
  const t0 = BASE_MICROS - 60_000_000;
  return {
    t0,
    started: t0 + 123_456,
    completed: s.edge || s.unfinished > 0 ? null : BASE_MICROS + runCount * 3_600_000_000 + 654_321,
  };
}

export interface WritePlan {
  s: Settings;
  experimentId: string;
  runs: readonly RunPlan[];
  invocations: readonly InvocationPlan[];
  /** Embedding rows in storage order (shuffled unless asked not to). */
  storageOrder: readonly EmbeddingPlan[];
  selection: LayoutSelection;
  vectors: VectorMaker;
  imageFor: (inv: InvocationPlan) => Buffer | null;
  times: ExperimentTimes;
}

export interface WriteResult {
  invocationCount: number;
  written: Set<EmbeddingPlan>;
}

/**
 * One IMAGE invocation's output bytes, drawn from `misc` for every planned
 * image, written or not, so that layouts agree. The buffer is reused: insert
 * it before asking for the next.
 */
export function imageMaker(misc: Rng, imageBytes: number): (inv: InvocationPlan) => Buffer | null {
  const image = Buffer.alloc(imageBytes);
  return (inv) => {
    if (inv.type !== "IMAGE") return null;
    for (let i = 0; i < imageBytes; i++) image[i] = misc.int(256);
    return image;
  };
}
