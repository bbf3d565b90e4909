/**
 * The schemas the generator writes: what SQLAlchemy emits for the first
 * generation, and what upstream's migrations leave in SQLite for the second.
 */

// Schema: exactly what SQLAlchemy emits on SQLite (column order matters).
export const PANIC_DDL: readonly string[] = [
  "CREATE TABLE experimentconfig (id CHAR(32) NOT NULL, networks JSON, seeds JSON, prompts JSON, embedding_models JSON, max_length INTEGER NOT NULL, started_at DATETIME, completed_at DATETIME, PRIMARY KEY (id))",
  "CREATE TABLE run (id CHAR(32) NOT NULL, network JSON, seed INTEGER NOT NULL, max_length INTEGER NOT NULL, initial_prompt VARCHAR NOT NULL, experiment_id CHAR(32), PRIMARY KEY (id), FOREIGN KEY(experiment_id) REFERENCES experimentconfig (id))",
  "CREATE INDEX ix_run_experiment_id ON run (experiment_id)",
  "CREATE TABLE invocation (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, model VARCHAR NOT NULL, type VARCHAR(5) NOT NULL, seed INTEGER NOT NULL, run_id CHAR(32) NOT NULL, sequence_number INTEGER NOT NULL, input_invocation_id CHAR(32), output_text VARCHAR, output_image_data BLOB, PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES run (id), FOREIGN KEY(input_invocation_id) REFERENCES invocation (id))",
  "CREATE INDEX ix_invocation_run_id ON invocation (run_id)",
  "CREATE INDEX ix_invocation_input_invocation_id ON invocation (input_invocation_id)",
  "CREATE TABLE embedding (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, invocation_id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, vector BLOB, PRIMARY KEY (id), FOREIGN KEY(invocation_id) REFERENCES invocation (id))",
  "CREATE INDEX ix_embedding_invocation_id ON embedding (invocation_id)",
];

/**
 * Second generation: the statements upstream's migrations
 * (priv/repo/migrations, ash_sqlite-generated) make ecto_sqlite3 run, in
 * order, for the tables panic-drift reads, so that the result is what SQLite
 * holds after them (column order included: `output_image` sits before
 * `type`, `model` and `id`; `vector` before `embedding_model` and `id`).
 * ids are `:uuid` (TEXT, hyphenated), timestamps `:utc_datetime_usec`
 * (TEXT, ISO 8601 with `Z`), arrays JSON TEXT.
 */
export const ELIXIR_DDL: readonly string[] = [
  // 20260202074101_initial_setup
  'CREATE TABLE "runs" ("experiment_id" TEXT NOT NULL CONSTRAINT "runs_experiment_id_fkey" REFERENCES "experiments"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "initial_prompt" TEXT NOT NULL, "max_length" INTEGER NOT NULL, "seed" INTEGER NOT NULL, "network" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE TABLE "persistence_diagrams" ("run_id" TEXT NOT NULL CONSTRAINT "persistence_diagrams_run_id_fkey" REFERENCES "runs"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT NOT NULL, "diagram_data" BLOB, "embedding_model" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE UNIQUE INDEX "persistence_diagrams_unique_run_model_index" ON "persistence_diagrams" ("run_id", "embedding_model")',
  'CREATE TABLE "invocations" ("input_invocation_id" TEXT CONSTRAINT "invocations_input_invocation_id_fkey" REFERENCES "invocations"("id"), "run_id" TEXT NOT NULL CONSTRAINT "invocations_run_id_fkey" REFERENCES "runs"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT NOT NULL, "output_image" BLOB, "output_text" TEXT, "sequence_number" INTEGER NOT NULL, "seed" INTEGER NOT NULL, "type" TEXT NOT NULL, "model" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE TABLE "experiments" ("updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT, "max_length" INTEGER NOT NULL, "embedding_models" TEXT NOT NULL, "prompts" TEXT NOT NULL, "seeds" TEXT NOT NULL, "networks" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE TABLE "embeddings" ("invocation_id" TEXT NOT NULL CONSTRAINT "embeddings_invocation_id_fkey" REFERENCES "invocations"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT NOT NULL, "vector" BLOB NOT NULL, "embedding_model" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE UNIQUE INDEX "embeddings_unique_invocation_model_index" ON "embeddings" ("invocation_id", "embedding_model")',
  'CREATE TABLE "embedding_clusters" ("medoid_embedding_id" TEXT CONSTRAINT "embedding_clusters_medoid_embedding_id_fkey" REFERENCES "embeddings"("id"), "clustering_result_id" TEXT NOT NULL CONSTRAINT "embedding_clusters_clustering_result_id_fkey" REFERENCES "clustering_results"("id"), "embedding_id" TEXT NOT NULL CONSTRAINT "embedding_clusters_embedding_id_fkey" REFERENCES "embeddings"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  `CREATE TABLE "clustering_results" ("updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT NOT NULL, "parameters" TEXT DEFAULT ('{}'), "algorithm" TEXT NOT NULL, "embedding_model" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)`,
  'CREATE UNIQUE INDEX "embedding_clusters_unique_embedding_clustering_index" ON "embedding_clusters" ("embedding_id", "clustering_result_id")',
  // 20260207043602_add_validations_and_identities
  'CREATE UNIQUE INDEX "runs_unique_experiment_run_index" ON "runs" ("experiment_id", "seed", "initial_prompt")',
  'CREATE UNIQUE INDEX "invocations_unique_run_sequence_index" ON "invocations" ("run_id", "sequence_number")',
  'ALTER TABLE "clustering_results" ADD COLUMN "experiment_id" TEXT NOT NULL CONSTRAINT "clustering_results_experiment_id_fkey" REFERENCES "experiments"("id")',
  // 20260207053414_simplify_experiment_model
  'DROP INDEX IF EXISTS "runs_unique_experiment_run_index"',
  'ALTER TABLE "runs" DROP COLUMN "seed"',
  'ALTER TABLE "runs" ADD COLUMN "run_number" INTEGER NOT NULL',
  'CREATE UNIQUE INDEX "runs_unique_experiment_run_index" ON "runs" ("experiment_id", "initial_prompt", "run_number")',
  'ALTER TABLE "invocations" DROP COLUMN "seed"',
  'ALTER TABLE "experiments" DROP COLUMN "seeds"',
  'ALTER TABLE "experiments" DROP COLUMN "networks"',
  'ALTER TABLE "experiments" ADD COLUMN "network" TEXT NOT NULL',
  'ALTER TABLE "experiments" ADD COLUMN "num_runs" INTEGER NOT NULL',
  // 20260207065950_add_networks_to_experiments
  'DROP INDEX IF EXISTS "runs_unique_experiment_run_index"',
  'CREATE UNIQUE INDEX "runs_unique_experiment_run_index" ON "runs" ("experiment_id", "network", "initial_prompt", "run_number")',
  'ALTER TABLE "experiments" DROP COLUMN "network"',
  'ALTER TABLE "experiments" ADD COLUMN "networks" TEXT NOT NULL',
  // 20260327035722_add_lyapunov_results
  'CREATE TABLE "lyapunov_results" ("experiment_id" TEXT NOT NULL CONSTRAINT "lyapunov_results_experiment_id_fkey" REFERENCES "experiments"("id"), "updated_at" TEXT NOT NULL, "inserted_at" TEXT NOT NULL, "completed_at" TEXT, "started_at" TEXT NOT NULL, "lyapunov_data" BLOB, "prompt" TEXT NOT NULL, "network" TEXT NOT NULL, "embedding_model" TEXT NOT NULL, "id" TEXT NOT NULL PRIMARY KEY)',
  'CREATE UNIQUE INDEX "lyapunov_results_unique_experiment_network_prompt_model_index" ON "lyapunov_results" ("experiment_id", "network", "prompt", "embedding_model")',
  // 20260519064359_add_clustering_layer
  'ALTER TABLE "clustering_results" ADD COLUMN "layer" INTEGER DEFAULT 0 NOT NULL',
  'CREATE UNIQUE INDEX "clustering_results_unique_layer_index" ON "clustering_results" ("experiment_id", "embedding_model", "algorithm", "layer")',
  // 20260519233115_drop_experiment_from_clustering
  'DROP INDEX IF EXISTS "clustering_results_unique_layer_index"',
  'ALTER TABLE "clustering_results" DROP COLUMN "experiment_id"',
  'CREATE UNIQUE INDEX "clustering_results_unique_layer_index" ON "clustering_results" ("embedding_model", "algorithm", "layer")',
];

/** Ecto's own bookkeeping table, and the versions of upstream's migrations it records. */
export const ECTO_MIGRATIONS_DDL = 'CREATE TABLE IF NOT EXISTS "schema_migrations" ("version" INTEGER PRIMARY KEY, "inserted_at" TEXT)';
export const ELIXIR_MIGRATIONS = [20260202074101, 20260207043602, 20260207053414, 20260207065950, 20260327035722, 20260519064359, 20260519233115];

/** Tables real databases also carry; panic-drift must ignore them. Shapes are plausible, not exact. */
export const OTHER_DDL: readonly string[] = [
  "CREATE TABLE clusteringresult (id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, algorithm VARCHAR NOT NULL, parameters JSON, started_at DATETIME, completed_at DATETIME, PRIMARY KEY (id))",
  "CREATE TABLE embeddingcluster (id CHAR(32) NOT NULL, embedding_id CHAR(32) NOT NULL, clustering_result_id CHAR(32) NOT NULL, medoid_embedding_id CHAR(32), PRIMARY KEY (id), FOREIGN KEY(embedding_id) REFERENCES embedding (id), FOREIGN KEY(clustering_result_id) REFERENCES clusteringresult (id), FOREIGN KEY(medoid_embedding_id) REFERENCES embedding (id))",
  "CREATE TABLE persistencediagram (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, diagram_data BLOB, run_id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES run (id))",
];
