/**
 * What a layout writes of the plan (see `PanicDbLayout`): the first
 * generation everything, the second only what its constraints would accept.
 */
import type { EmbeddingPlan } from "./embeddings.js";
import { Rng } from "./rng.js";
import type { RunPlan } from "./runs.js";
import type { PanicDbLayout } from "./types.js";

export interface LayoutSelection {
  gen2: boolean;
  /** The second generation's experiment for the run planned without one; null when there is none. */
  secondExperimentId: string | null;
  writtenRuns: RunPlan[];
  runWritten: ReadonlySet<RunPlan>;
  experimentOf: (run: RunPlan) => string | null;
  /** Whether a row is written whatever its vector; the second generation also drops NULL vectors, found while writing. */
  planWritten: (p: EmbeddingPlan) => boolean;
}

export function selectWritten(layout: PanicDbLayout, seed: number, runs: readonly RunPlan[]): LayoutSelection {
  const gen2 = layout === "gen2";
  // Upstream's second generation: every run belongs to an experiment; the run planned
  // without one gets its own (an id from a stream of its own: no other id changes).
  const secondExperimentId = gen2 && runs.some((r) => r.experimentId === null) ? new Rng(seed, 4).hex32() : null;
  // Ash refuses an empty initial prompt.
  const writtenRuns = gen2 ? runs.filter((r) => r.prompt.trim() !== "") : [...runs];
  const runWritten = new Set(writtenRuns);
  return {
    gen2,
    secondExperimentId,
    writtenRuns,
    runWritten,
    experimentOf: (run) => run.experimentId ?? secondExperimentId,
    planWritten: (p) =>
      !gen2 || (p.inv !== undefined && runWritten.has(p.inv.run) && p.duplicate !== true && p.kind !== "nullVector"),
  };
}
