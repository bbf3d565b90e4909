/** The export's tables and their columns, as upstream's `mix experiment.export_data` writes them. */

export const TABLES = [
  "experiments",
  "runs",
  "invocations",
  "embeddings",
  "persistence_diagrams",
  "clustering_results",
  "embedding_clusters",
  "lyapunov_results",
] as const;

export type TableName = (typeof TABLES)[number];

export type ColumnType = "VARCHAR" | "BIGINT" | "DOUBLE" | "FLOAT[]" | "DOUBLE[]";
/** A vector as a list column holds it: float32 values, or numbers with NULL elements. */
export type VectorCell = Float32Array | (number | null)[];
export type Cell = string | number | bigint | null | VectorCell;

/** The columns upstream writes, per table, in its order, with Explorer's dtypes. */
const TIMES = ["started_at", "completed_at", "inserted_at", "updated_at"].map((c) => [c, "VARCHAR"] as const);
const STAMPS = ["inserted_at", "updated_at"].map((c) => [c, "VARCHAR"] as const);
export const EXPORT_COLUMNS: Record<TableName, readonly (readonly [string, ColumnType])[]> = {
  experiments: [
    ["id", "VARCHAR"],
    ["networks", "VARCHAR"],
    ["num_runs", "BIGINT"],
    ["prompts", "VARCHAR"],
    ["embedding_models", "VARCHAR"],
    ["max_length", "BIGINT"],
    ...TIMES,
  ],
  runs: [
    ["id", "VARCHAR"],
    ["experiment_id", "VARCHAR"],
    ["network", "VARCHAR"],
    ["run_number", "BIGINT"],
    ["max_length", "BIGINT"],
    ["initial_prompt", "VARCHAR"],
    ...STAMPS,
  ],
  invocations: [
    ["id", "VARCHAR"],
    ["run_id", "VARCHAR"],
    ["input_invocation_id", "VARCHAR"],
    ["sequence_number", "BIGINT"],
    ["type", "VARCHAR"],
    ["model", "VARCHAR"],
    ["output_text", "VARCHAR"],
    ...TIMES,
  ],
  embeddings: [
    ["id", "VARCHAR"],
    ["invocation_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["vector", "FLOAT[]"],
    ...TIMES,
  ],
  persistence_diagrams: [
    ["id", "VARCHAR"],
    ["run_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["diagram_data", "VARCHAR"],
    ...TIMES,
  ],
  clustering_results: [
    ["id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["algorithm", "VARCHAR"],
    ["parameters", "VARCHAR"],
    ["layer", "BIGINT"],
    ...TIMES,
  ],
  embedding_clusters: [
    ["id", "VARCHAR"],
    ["embedding_id", "VARCHAR"],
    ["clustering_result_id", "VARCHAR"],
    ["medoid_embedding_id", "VARCHAR"],
    ...STAMPS,
  ],
  lyapunov_results: [
    ["id", "VARCHAR"],
    ["experiment_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["network", "VARCHAR"],
    ["prompt", "VARCHAR"],
    ["exponent", "DOUBLE"],
    ["r_squared", "DOUBLE"],
    ["num_pairs", "BIGINT"],
    ["num_timesteps", "BIGINT"],
    ["divergence_curve", "DOUBLE[]"],
    ...TIMES,
  ],
};


/** Upstream's image embedders (Embeddings.model_type == :image): they get no prompt rows. */
export const IMAGE_MODELS = new Set(["NomicVision", "JinaClipVision", "DummyVision", "DummyVision2"]);
