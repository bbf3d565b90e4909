/** The edge cases the generator can plant, and the options of the database that holds them all. */
import type { PanicDbOptions } from "./types.js";

/** Edge cases whose rows must get a NULL drift (given default exclusions). */
export const NULL_DRIFT_EDGES = [
  "nullVector",
  "zeroVector",
  "nanComponent",
  "infComponent",
  "badLength",
  "emptyBlob",
  "wrongDim",
  "missingReference",
  "zeroReference",
] as const;

/**
 * The edge-case database the pipeline tests compare against the oracle: every
 * edge case, and models of three dimensions, two of them with built-in
 * references and one without.
 */
export const EDGE_DB_OPTIONS: PanicDbOptions = {
  runs: 8,
  steps: 12,
  edgeCases: true,
  embeddingModels: [
    { name: "Dummy", dim: 768 },
    { name: "Dummy2", dim: 768 },
    { name: "DummyText", dim: 256 },
    { name: "Synthetic64", dim: 64 },
  ],
};

/** All edge-case names used as keys of `edgeRows`. */
export const EDGE_CASES = [
  ...NULL_DRIFT_EDGES,
  "denormal",
  "excludedPrompt",
  "emptyPrompt",
  "unicode",
  "longPrompt",
  "unfinishedRun",
  "nullExperiment",
  "duplicateEmbedding",
  "orphanEmbedding",
  "imageEmbedding",
] as const;

/** Edge cases planted on one embedding row each, by altering its vector. */
export type EdgeKind = "nullVector" | "zeroVector" | "nanComponent" | "infComponent" | "badLength" | "emptyBlob" | "wrongDim" | "denormal";

/** The per-row edge cases, in the order they take the shuffled candidate rows. */
export const PER_ROW_EDGES: readonly EdgeKind[] = ["nullVector", "zeroVector", "nanComponent", "infComponent", "badLength", "emptyBlob", "wrongDim", "denormal"];
