/** The export's options and the manifest it returns. */
import type { TableName, VectorCell } from "./columns.js";

export interface PanicExportOptions {
  /** Experiments to export (raw or hyphenated ids); default every experiment of the database. */
  experiments?: string[];
  /** Add upstream's `--embed-prompts` rows. Default false. */
  embedPrompts?: boolean;
  /**
   * With `embedPrompts`: the stored vector of (model, prompt). Default: the
   * built-in embedders for Dummy/Dummy2/DummyText/DummyText2 (what upstream's
   * embedders give), and for any other model a deterministic vector of the
   * model's dimension derived from the prompt (see `syntheticPromptVector`).
   * Return null to store a NULL vector.
   */
  promptVector?: (model: string, prompt: string, dimension: number) => VectorCell | null;
  /**
   * Order of embeddings.parquet: the database's storage order (default), or
   * "run": run by run in run_id order, each run's model by model, step by
   * step, as upstream's engine inserts them (its uuid_v7 run ids grow with
   * creation time, so that is also the output's run order).
   */
  embeddingOrder?: "storage" | "run";
  /** Raw (32-hex) embedding ids whose vector gets a NULL element at index 1 (not something upstream writes). */
  nullElements?: string[];
}

export interface PanicExportManifest {
  dir: string;
  /** Hyphenated ids of the exported runs. */
  runIds: string[];
  /** Rows of each table file. */
  rows: Record<TableName, number>;
  /**
   * Hyphenated ids of embeddings whose first-generation vector cannot be a
   * list<float32> (a blob whose length is not a multiple of 4, or not a
   * blob): written as NULL.
   */
  unrepresentable: string[];
  /** Hyphenated ids of runs left out: those without an experiment (upstream exports experiments). */
  runsWithoutExperiment: string[];
  /** The prompt vectors written, by model then prompt (with `embedPrompts`). */
  promptVectors: Map<string, Map<string, VectorCell | null>>;
}
