/**
 * The output frame's columns, in upstream's order (its cached
 * embeddings.parquet), without the drift. Kept apart from the Arrow code
 * (sourceBatch.ts) so that checking a column name loads nothing.
 */
export const FRAME_COLUMNS = [
  "id",
  "invocation_id",
  "embedding_model",
  "started_at",
  "completed_at",
  "run_id",
  "sequence_number",
  "text_model",
  "text",
  "initial_prompt",
  "network",
  "experiment_id",
] as const;
export type FrameColumn = (typeof FRAME_COLUMNS)[number];

/** The frame's columns with the drift: the cached file's columns, in order. */
export const OUTPUT_COLUMN_NAMES = [...FRAME_COLUMNS, "semantic_drift"] as const;
export type OutputColumn = (typeof OUTPUT_COLUMN_NAMES)[number];
