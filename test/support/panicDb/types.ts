/** The generator's public types: its options, the callbacks' contexts and the manifest it returns. */
import type { Rng } from "./rng.js";

export interface EmbeddingModelSpec {
  name: string;
  dim: number;
}

export interface VectorContext {
  initialPrompt: string;
  runIndex: number;
  sequenceNumber: number;
  maxLength: number;
}

export interface TextContext {
  runIndex: number;
  sequenceNumber: number;
  initialPrompt: string;
  /** The previous TEXT output of this run, or the initial prompt at the first TEXT step. */
  previousText: string;
  /** The image-to-text model producing this text. */
  model: string;
  rng: Rng;
}

/**
 * Which generation's database to write. `"gen2"` writes the same planned
 * experiment as `"gen1"`, but only what upstream's second generation could
 * hold (its NOT NULL, UNIQUE and foreign-key constraints, enforced by
 * ecto_sqlite3, and Ash's validations):
 * - no NULL vectors (`embeddings.vector` is NOT NULL; its engine inserts an
 *   embedding once computed): rows planned with a NULL vector (the
 *   `nullVector` edge case, the unfinished runs' last text step, `vectorFor`
 *   returning null) are not written, as in a running experiment;
 * - no duplicate (invocation, embedding model) (a UNIQUE index): the
 *   `duplicateEmbedding` copy is not written (the row it copies is);
 * - no orphan embedding (foreign keys are on): not written;
 * - no run without an experiment (`runs.experiment_id` NOT NULL): the
 *   `nullExperiment` run belongs to a second experiment instead;
 * - no empty initial prompt (Ash refuses it): the `emptyPrompt` run, its
 *   invocations and embeddings are not written (so no `zeroReference` rows).
 * Everything else (zero vectors, NaN/Inf, bad lengths, empty blobs, wrong
 * dimensions, image embeddings, excluded prompts, unicode) is written as in
 * the first generation. `edgeRows` lists, per layout, only rows written
 * whose edge case still holds.
 */
export type PanicDbLayout = "gen1" | "gen2";

export interface PanicDbOptions {
  /** Which generation's database to write. Default "gen1". */
  layout?: PanicDbLayout;
  /** Ordinary runs (edge-case runs are added on top). Default 4. */
  runs?: number;
  /** max_length: invocations per complete run. Default 10. */
  steps?: number;
  /** Default [Dummy, Dummy2]. Built-in names get their fixed dims whatever `dim` says. */
  embeddingModels?: EmbeddingModelSpec[];
  /** Initial prompts, cycled over runs. */
  prompts?: string[];
  /** Networks (text-to-image model, image-to-text model, …), cycled over runs. */
  networks?: string[][];
  /** Size of each IMAGE invocation's output_image_data blob. Default 64. */
  imageBytes?: number;
  seed?: number;
  /** Vector of one embedding; `null` stores a NULL vector. Default: seeded noise mixed with the prompt's reference. */
  vectorFor?: (model: string, text: string, rng: Rng, ctx: VectorContext) => Float32Array | null;
  /** Output text of one TEXT invocation. Default: a caption that drifts step by step. */
  textFor?: (ctx: TextContext) => string;
  /** Insert embedding rows in shuffled order (storage order ≠ output order). Default true. */
  shuffle?: boolean;
  /** The last N ordinary runs stop early, their last TEXT step's vectors still NULL. Default 0. */
  unfinishedRuns?: number;
  /** Add the edge cases listed in `EDGE_CASES`. Default false. */
  edgeCases?: boolean;
}

export interface PanicDbManifest {
  path: string;
  layout: PanicDbLayout;
  /**
   * Raw 32-hex run ids in creation order (edge-case runs last), of the runs
   * written. All ids in the manifest are raw 32-hex whatever the layout (the
   * second generation stores them hyphenated).
   */
  runIds: string[];
  /** The main experiment first; with `gen2` edge cases, the `nullExperiment` run's own second. */
  experimentIds: string[];
  /** Each written run's experiment (null: none), by run id. */
  runExperiments: Record<string, string | null>;
  /** What was planned but not written in this layout (see PanicDbLayout): run ids and embedding ids. */
  notWritten: { runs: string[]; embeddings: string[] };
  invocationCount: number;
  /** Rows in the embedding table, orphans included. */
  embeddingCount: number;
  /** Expected output rows with the default exclusions ('yeah', 'nah'). */
  textEmbeddingRows: number;
  /** Edge case name → raw 32-hex embedding ids exhibiting it. Empty without `edgeCases`. */
  edgeRows: Record<string, string[]>;
}
