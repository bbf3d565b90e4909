/** The four tables an export must hold, and the columns panic-drift reads from each. */
export const EXPORT_TABLES = {
  runs: ["id", "experiment_id", "network", "initial_prompt"],
  invocations: ["id", "run_id", "sequence_number", "type", "model", "output_text"],
  embeddings: ["id", "invocation_id", "embedding_model", "vector", "started_at", "completed_at"],
  experiments: ["id"],
} as const;

export type ExportTable = keyof typeof EXPORT_TABLES;

export const EXPORT_FILES: readonly string[] = Object.keys(EXPORT_TABLES).map((t) => `${t}.parquet`);
