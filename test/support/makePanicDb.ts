/**
 * Deterministic generator of panic-tda SQLite databases, for tests and
 * benchmarks, in either layout: first generation ("Python era", what
 * SQLModel/SQLAlchemy wrote) or second generation ("Elixir era", what
 * Ash/ecto_sqlite3 write). Independent of the product code. The same options
 * and seed plan the same experiment in both: runs, invocations, texts,
 * vectors, timestamps and ids; the second generation leaves out what its
 * constraints would refuse (see `PanicDbLayout`).
 */
import { existsSync, rmSync } from "node:fs";
import { endianness } from "node:os";
import Database from "better-sqlite3";

// ---------------------------------------------------------------------------
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
const ECTO_MIGRATIONS_DDL = 'CREATE TABLE IF NOT EXISTS "schema_migrations" ("version" INTEGER PRIMARY KEY, "inserted_at" TEXT)';
const ELIXIR_MIGRATIONS = [20260202074101, 20260207043602, 20260207053414, 20260207065950, 20260327035722, 20260519064359, 20260519233115];

/** Tables real databases also carry; panic-drift must ignore them. Shapes are plausible, not exact. */
const OTHER_DDL: readonly string[] = [
  "CREATE TABLE clusteringresult (id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, algorithm VARCHAR NOT NULL, parameters JSON, started_at DATETIME, completed_at DATETIME, PRIMARY KEY (id))",
  "CREATE TABLE embeddingcluster (id CHAR(32) NOT NULL, embedding_id CHAR(32) NOT NULL, clustering_result_id CHAR(32) NOT NULL, medoid_embedding_id CHAR(32), PRIMARY KEY (id), FOREIGN KEY(embedding_id) REFERENCES embedding (id), FOREIGN KEY(clustering_result_id) REFERENCES clusteringresult (id), FOREIGN KEY(medoid_embedding_id) REFERENCES embedding (id))",
  "CREATE TABLE persistencediagram (id CHAR(32) NOT NULL, started_at DATETIME, completed_at DATETIME, diagram_data BLOB, run_id CHAR(32) NOT NULL, embedding_model VARCHAR NOT NULL, PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES run (id))",
];

// ---------------------------------------------------------------------------
// Public types.

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

/** All edge-case names used as keys of `edgeRows`. */
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

export const BUILTIN_DIMS: Readonly<Record<string, number>> = {
  Dummy: 768,
  Dummy2: 768,
  DummyText: 256,
  DummyText2: 256,
};

/** Own keys only: a model named "toString" is not built in. */
function builtinDim(model: string): number | undefined {
  return Object.hasOwn(BUILTIN_DIMS, model) ? BUILTIN_DIMS[model] : undefined;
}

// ---------------------------------------------------------------------------
// PRNG: sfc32, seeded through splitmix32 so that nearby seeds give unrelated streams.

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    const s = splitmix32(splitmix32(seed | 0) ^ Math.imul(stream | 0, 0x27d4eb2d));
    this.a = splitmix32(s);
    this.b = splitmix32(s + 1);
    this.c = splitmix32(s + 2);
    this.d = splitmix32(s + 3);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  hex32(): string {
    let s = "";
    for (let i = 0; i < 4; i++) s += this.u32().toString(16).padStart(8, "0");
    return s;
  }

  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
  }
}

// ---------------------------------------------------------------------------
// Upstream's test embedders, only to make default vectors correlate with the
// reference (so drifts vary). Exactness here is not what tests rely on: the
// Python oracle recomputes references with numpy itself.

function dummyVector(text: string, dim: number): Float64Array {
  let seed = 0;
  for (const ch of text) seed += ch.codePointAt(0) ?? 0;
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) {
    const p = mt[i - 1] ?? 0;
    mt[i] = (Math.imul(1812433253, p ^ (p >>> 30)) + i) >>> 0;
  }
  let idx = 624;
  const next = (): number => {
    if (idx >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = ((mt[k] ?? 0) & 0x80000000) | ((mt[(k + 1) % 624] ?? 0) & 0x7fffffff);
        mt[k] = (mt[(k + 397) % 624] ?? 0) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      idx = 0;
    }
    let y = mt[idx++] ?? 0;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const a = next() >>> 5;
    const b = next() >>> 6;
    out[i] = Math.fround((a * 67108864 + b) / 9007199254740992);
  }
  return out;
}

function dummy2Vector(text: string, dim: number): Float64Array {
  const out = new Float64Array(dim);
  let i = 0;
  for (const ch of text) {
    if (i >= 100 || i >= dim) break;
    out[i++] = Math.fround((ch.codePointAt(0) ?? 0) / 255);
  }
  return out;
}

function builtinReference(model: string, text: string): Float64Array | undefined {
  const dim = builtinDim(model);
  if (dim === undefined) return undefined;
  return model === "Dummy" || model === "DummyText" ? dummyVector(text, dim) : dummy2Vector(text, dim);
}

// ---------------------------------------------------------------------------
// Captions that drift: each TEXT step mutates one or two slots of the previous one.

const ADJECTIVES = ["small", "large", "red", "weathered", "glowing", "quiet", "ancient", "blurry", "golden", "wet", "striped", "lonely"];
const SUBJECTS = ["cat", "dog", "lighthouse", "bicycle", "woman", "robot", "tree", "boat", "clock", "horse", "teapot", "castle"];
const ACTIONS = ["sitting on", "standing near", "floating above", "walking along", "leaning against", "hidden in", "reflected in"];
const PLACES = ["a windowsill", "a beach at sunset", "a snowy field", "a busy street", "a forest clearing", "an empty room", "a river bank", "a neon-lit alley"];
const STYLES = ["in soft light", "in black and white", "with a shallow depth of field", "in the style of a watercolour", "at night", "on a foggy morning"];

const NOUNS = new Set([...SUBJECTS, "bicycle", "umbrella", "people", "coast", "market", "square", "city", "garden", "mountain"]);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const alt = (words: readonly string[]): string => `(${words.map(escapeRe).join("|")})`;
// Parses a caption this generator wrote back into its five slots.
const CAPTION_RE = new RegExp(`^a ${alt(ADJECTIVES)} (\\S+) ${alt(ACTIONS)} ${alt(PLACES)} ${alt(STYLES)}$`, "u");

/** The default `textFor`: a caption that starts near the prompt and mutates one or two slots per step. */
export function driftingCaption(ctx: TextContext): string {
  const { rng } = ctx;
  const slots: readonly (readonly string[])[] = [ADJECTIVES, SUBJECTS, ACTIONS, PLACES, STYLES];
  const prev = CAPTION_RE.exec(ctx.previousText);
  let words: string[];
  if (prev) {
    words = prev.slice(1, 6);
    const changes = 1 + rng.int(2);
    for (let c = 0; c < changes; c++) {
      const slot = rng.int(slots.length);
      words[slot] = rng.pick(slots[slot] ?? ADJECTIVES);
    }
  } else {
    // First caption: keep the prompt's subject when it names one we know.
    words = slots.map((s) => rng.pick(s));
    const nouns = ctx.previousText.toLowerCase().split(/[^\p{L}]+/u).filter((w) => NOUNS.has(w));
    if (nouns.length > 0) words[1] = rng.pick(nouns);
  }
  return `a ${words.join(" ")}`;
}

// ---------------------------------------------------------------------------
// Encodings.

/** Python's json.dumps defaults (", " separators, ensure_ascii), as SQLAlchemy's JSON type stores. */
function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (typeof value === "string") {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  return JSON.stringify(value);
}

const BASE_MICROS = Date.UTC(2025, 2, 3, 9, 0, 0) * 1000;

/** SQLAlchemy's SQLite DATETIME storage format, naive UTC with microseconds. */
function datetimeText(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const frac = p(micros - Math.floor(micros / 1e6) * 1e6, 6);
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac}`;
}

/** ecto_sqlite3's `:utc_datetime_usec` storage: `DateTime.to_iso8601`, e.g. `2025-03-03T09:00:00.123456Z`. */
function isoText(micros: number): string {
  const text = datetimeText(micros);
  return `${text.slice(0, 10)}T${text.slice(11)}Z`;
}

/** Jason's encoding of a list (ecto_sqlite3's arrays): compact, non-ASCII as is. */
function jasonJson(value: unknown): string {
  return JSON.stringify(value);
}

/** A 32-hex id as a hyphenated UUID (8-4-4-4-12), as the second generation stores ids. */
function hyphenated(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

function f32Bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

// ---------------------------------------------------------------------------
// The plan: everything but vectors is decided before inserting, so that
// embedding rows can be inserted in any order with the same content.

type EdgeKind =
  | "nullVector"
  | "zeroVector"
  | "nanComponent"
  | "infComponent"
  | "badLength"
  | "emptyBlob"
  | "wrongDim"
  | "denormal";

interface RunPlan {
  index: number;
  id: string;
  prompt: string;
  network: string[];
  seed: number;
  length: number;
  experimentId: string | null;
  /** Last TEXT step's vectors are not written yet (a running experiment). */
  nullTail: boolean;
  unicodeTexts: boolean;
  tags: string[];
}

interface InvocationPlan {
  id: string;
  run: RunPlan;
  seq: number;
  type: "TEXT" | "IMAGE";
  text: string | null;
  completedMicros: number;
}

interface EmbeddingPlan {
  id: string;
  /** Undefined for the orphan. */
  inv: InvocationPlan | undefined;
  invocationId: string;
  model: EmbeddingModelSpec;
  kind: EdgeKind | null;
  tags: string[];
  /** The `duplicateEmbedding` copy (not the row it copies). */
  duplicate?: boolean;
}

const DEFAULT_PROMPTS = [
  "a red bicycle leaning against a wall",
  "a cat sitting on a windowsill",
  "a lighthouse on a stormy coast",
  "two people sharing an umbrella",
];
const DEFAULT_NETWORKS = [
  ["SDXLTurbo", "Moondream"],
  ["FluxSchnell", "BLIP2"],
];
const UNICODE_PROMPT = "Café crème à Zürich, 東京の夜景 🐉🌸 naïve";
// Over 100 code points with astral characters around the cut, so UTF-16 units ≠ code points.
const LONG_PROMPT =
  "An extraordinarily detailed panorama of a medieval market square at dawn, merchants arriving 🐴🐴🐴🐴 with carts of apples, pears and 🍐 cheese, while pigeons scatter";

function resolveModels(models: EmbeddingModelSpec[] | undefined): EmbeddingModelSpec[] {
  const list = models ?? [
    { name: "Dummy", dim: 768 },
    { name: "Dummy2", dim: 768 },
  ];
  if (list.length === 0) throw new Error("makePanicDb: embeddingModels must not be empty");
  return list.map((m) => ({ name: m.name, dim: builtinDim(m.name) ?? m.dim }));
}

export function makePanicDb(path: string, options: PanicDbOptions = {}): PanicDbManifest {
  // Typed arrays use host byte order; the format is little-endian.
  if (endianness() !== "LE") throw new Error("makePanicDb: big-endian hosts are not supported");
  const seed = options.seed ?? 1;
  const runsWanted = options.runs ?? 4;
  const steps = options.steps ?? 10;
  const models = resolveModels(options.embeddingModels);
  const prompts = options.prompts ?? DEFAULT_PROMPTS;
  const networks = options.networks ?? DEFAULT_NETWORKS;
  const imageBytes = options.imageBytes ?? 64;
  const edge = options.edgeCases ?? false;
  const unfinished = options.unfinishedRuns ?? 0;
  const textFor = options.textFor ?? driftingCaption;
  if (prompts.length === 0 || networks.length === 0) throw new Error("makePanicDb: prompts and networks must not be empty");
  if (edge && (steps < 4 || runsWanted < 2)) throw new Error("makePanicDb: edgeCases needs steps >= 4 and runs >= 2");

  // Separate streams, so that e.g. `shuffle` changes only the storage order.
  const ids = new Rng(seed, 1);
  const misc = new Rng(seed, 2);
  const shuffler = new Rng(seed, 3);

  // --- runs
  const experimentId = ids.hex32();
  const runs: RunPlan[] = [];
  const addRun = (prompt: string, network: string[], extra: Partial<RunPlan> = {}): RunPlan => {
    const index = runs.length;
    const run: RunPlan = {
      index,
      id: ids.hex32(),
      prompt,
      network,
      seed: index % 5 === 4 ? -1 : index, // upstream uses -1 for "random seed"
      length: steps,
      experimentId,
      nullTail: false,
      unicodeTexts: false,
      tags: [],
      ...extra,
    };
    runs.push(run);
    return run;
  };
  for (let r = 0; r < runsWanted; r++) {
    const early = r >= runsWanted - unfinished;
    addRun(prompts[r % prompts.length] ?? "", networks[r % networks.length] ?? [], early ? { length: Math.max(2, Math.floor(steps * 0.6)), nullTail: true } : {});
  }
  const ordinaryRuns = runs.filter((r) => !r.nullTail);
  if (edge) {
    const net = (i: number): string[] => networks[i % networks.length] ?? [];
    addRun("yeah", net(0), { tags: ["excludedPrompt"] });
    addRun("nah", net(1), { tags: ["excludedPrompt"] });
    addRun("", net(0), { tags: ["emptyPrompt"] });
    addRun(UNICODE_PROMPT, net(1), { unicodeTexts: true, tags: ["unicode"] });
    addRun(LONG_PROMPT, net(0), { tags: ["longPrompt", "unicode"] });
    addRun(prompts[0] ?? "", net(1), { experimentId: null, tags: ["nullExperiment"] });
    addRun(prompts[1 % prompts.length] ?? "", net(0), { length: Math.max(3, steps - 3), nullTail: true, tags: ["unfinishedRun"] });
  }

  // --- invocations (texts are generated here, in run order)
  const invocations: InvocationPlan[] = [];
  const timestamps = new Map<InvocationPlan, [number, number]>();
  for (const run of runs) {
    const textRng = new Rng(seed, 1000 + run.index);
    let previousText = run.prompt;
    let t = BASE_MICROS + run.index * 3_600_000_000;
    for (let seq = 0; seq < run.length; seq++) {
      const type = seq % 2 === 0 ? "IMAGE" : "TEXT";
      let text: string | null = null;
      if (type === "TEXT") {
        const model = run.network[seq % run.network.length] ?? "";
        text = textFor({ runIndex: run.index, sequenceNumber: seq, initialPrompt: run.prompt, previousText, model, rng: textRng });
        previousText = text;
        if (run.unicodeTexts) text += ` — ${textRng.pick(["café", "東京タワー", "Ærøskøbing", "😀 emoji", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "naïve résumé"])}`;
      }
      const started = t + misc.int(1_000_000);
      const completed = started + 500_000 + misc.int(2_500_000);
      t = completed + 1_000_000;
      const inv: InvocationPlan = { id: ids.hex32(), run, seq, type, text, completedMicros: completed };
      timestamps.set(inv, [started, completed]);
      invocations.push(inv);
    }
  }

  // --- embeddings, in output-like order before any shuffle
  const plans: EmbeddingPlan[] = [];
  const addEmbedding = (inv: InvocationPlan | undefined, model: EmbeddingModelSpec, kind: EdgeKind | null, tags: string[] = []): EmbeddingPlan => {
    const plan: EmbeddingPlan = { id: ids.hex32(), inv, invocationId: inv?.id ?? ids.hex32(), model, kind, tags };
    plans.push(plan);
    return plan;
  };
  const textByRun = new Map<RunPlan, InvocationPlan[]>();
  for (const inv of invocations) {
    if (inv.type !== "TEXT") continue;
    const list = textByRun.get(inv.run) ?? [];
    list.push(inv);
    textByRun.set(inv.run, list);
  }
  const slots: EmbeddingPlan[] = []; // candidate rows for per-row edge cases
  const edgeModel = models.find((m) => builtinDim(m.name) !== undefined) ?? models[0]!;
  for (const run of runs) {
    const texts = textByRun.get(run) ?? [];
    texts.forEach((inv, k) => {
      const tail = run.nullTail && k === texts.length - 1;
      for (const model of models) {
        const plan = addEmbedding(inv, model, tail ? "nullVector" : null, [...run.tags]);
        if (!tail && model === edgeModel && ordinaryRuns.includes(run)) slots.push(plan);
      }
    });
  }

  if (edge) {
    const perRow: EdgeKind[] = ["nullVector", "zeroVector", "nanComponent", "infComponent", "badLength", "emptyBlob", "wrongDim", "denormal"];
    if (slots.length < perRow.length + 1) throw new Error("makePanicDb: edgeCases needs more ordinary TEXT invocations (raise runs or steps)");
    misc.shuffle(slots);
    perRow.forEach((kind, i) => {
      (slots[i] as EmbeddingPlan).kind = kind;
    });
    const dupOf = slots[perRow.length] as EmbeddingPlan;
    dupOf.tags.push("duplicateEmbedding");
    addEmbedding(dupOf.inv, dupOf.model, null, ["duplicateEmbedding"]).duplicate = true;

    const firstText = textByRun.get(ordinaryRuns[0]!)?.[0];
    // A real model name with no built-in reference.
    if (!models.some((m) => builtinDim(m.name) === undefined)) addEmbedding(firstText, { name: "Nomic", dim: 768 }, null);
    // The empty prompt's Dummy2 reference is all zero: make sure such rows exist.
    const emptyRun = runs.find((r) => r.tags.includes("emptyPrompt"));
    if (emptyRun && !models.some((m) => m.name === "Dummy2" || m.name === "DummyText2")) {
      for (const inv of textByRun.get(emptyRun) ?? []) addEmbedding(inv, { name: "Dummy2", dim: 768 }, null, [...emptyRun.tags]);
    }
    addEmbedding(undefined, edgeModel, null, ["orphanEmbedding"]);
    const image = invocations.find((i) => i.type === "IMAGE" && i.run === ordinaryRuns[0]);
    addEmbedding(image, edgeModel, null, ["imageEmbedding"]);
  }

  // --- what this layout writes (see PanicDbLayout)
  const layout = options.layout ?? "gen1";
  const gen2 = layout === "gen2";
  // Upstream's second generation: every run belongs to an experiment; the run planned
  // without one gets its own (an id from a stream of its own: no other id changes).
  const secondExperimentId = gen2 && runs.some((r) => r.experimentId === null) ? new Rng(seed, 4).hex32() : null;
  const experimentOf = (run: RunPlan): string | null => run.experimentId ?? secondExperimentId;
  const writtenRuns = gen2 ? runs.filter((r) => r.prompt.trim() !== "") : runs;
  const runWritten = new Set(writtenRuns);
  // Rows whose presence does not depend on their vector; gen2 also drops NULL vectors, found while writing.
  const planWritten = (p: EmbeddingPlan): boolean =>
    !gen2 || (p.inv !== undefined && runWritten.has(p.inv.run) && p.duplicate !== true && p.kind !== "nullVector");
  const vectorRngIndex = new Map(plans.map((p, i) => [p, i]));
  const planned = [...plans]; // output-like order, for the manifest's lists
  if (options.shuffle ?? true) shuffler.shuffle(plans);

  // --- write
  for (const suffix of ["", "-wal", "-shm", "-journal"]) if (existsSync(path + suffix)) rmSync(path + suffix);
  const written = new Set<EmbeddingPlan>();
  let invocationCount = 0;
  if (gen2) {
    // Upstream's migrations, on a connection of their own (as ecto's migrator runs them): a
    // connection that ran ALTER TABLE … DROP COLUMN fails the final checkpoint ("database table
    // is locked").
    const migrator = new Database(path);
    try {
      for (const sql of [ECTO_MIGRATIONS_DDL, ...ELIXIR_DDL]) migrator.exec(sql);
    } finally {
      migrator.close();
    }
  }
  const db = new Database(path);
  try {
    // Built without a journal (a WAL would write every page twice: ~40% slower),
    // switched to WAL once filled: the file ends up exactly as a WAL database.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    // better-sqlite3 enforces foreign keys by default; the first generation's orphan row needs
    // them off (as SQLite's default). ecto_sqlite3 turns them on: the second generation keeps them.
    db.pragma(`foreign_keys = ${gen2 ? "ON" : "OFF"}`);
    db.pragma("cache_size = -65536");
    if (!gen2) for (const sql of [...PANIC_DDL, ...OTHER_DDL]) db.exec(sql);

    const image = Buffer.alloc(imageBytes);
    const vectorBuffers = new Map<number, Float32Array>(); // one reused buffer per dim: bind copies it
    const references = new Map<string, Float64Array | null>();
    const unitReference = (model: string, prompt: string): Float64Array | null => {
      const key = `${model}\u0000${prompt}`;
      let ref = references.get(key);
      if (ref === undefined) {
        const raw = builtinReference(model, prompt);
        let norm = 0;
        for (const x of raw ?? []) norm += x * x;
        ref = raw && norm > 0 ? raw.map((x) => x / Math.sqrt(norm)) : null;
        references.set(key, ref);
      }
      return ref;
    };
    const defaultVector = (model: EmbeddingModelSpec, rng: Rng, ctx: VectorContext): Float32Array => {
      let out = vectorBuffers.get(model.dim);
      if (!out) vectorBuffers.set(model.dim, (out = new Float32Array(model.dim)));
      // Mix the prompt's reference direction with noise, the mix drifting along the run,
      // so that drifts spread over [0, √2] rather than all sitting at ≈ √2.
      const ref = unitReference(model.name, ctx.initialPrompt);
      const progress = ctx.sequenceNumber / Math.max(1, ctx.maxLength);
      const w = ref ? Math.min(1, Math.max(0.02, 1 - progress + 0.4 * (rng.float() - 0.5))) : 0;
      const scale = w * Math.sqrt(model.dim / 3);
      for (let i = 0; i < out.length; i++) out[i] = (1 - w) * (rng.float() * 2 - 1) + (ref ? scale * (ref[i] ?? 0) : 0);
      return out;
    };

    const vectorBlob = (p: EmbeddingPlan, rng: Rng): Buffer | null => {
      const dim = p.model.dim;
      switch (p.kind) {
        case "nullVector":
          return null;
        case "emptyBlob":
          return Buffer.alloc(0);
        case "zeroVector":
          return Buffer.alloc(dim * 4);
        case "badLength":
          return Buffer.from(Uint8Array.from({ length: dim * 4 - 2 }, () => rng.int(256)));
        case "denormal": {
          // Subnormal float32 values (< 1.18e-38): tiny, but not zero.
          const v = new Float32Array(dim);
          for (let i = 0; i < dim; i++) v[i] = (1 + rng.int(1000)) * 1.401298464324817e-45 * (rng.float() < 0.5 ? -1 : 1);
          return Buffer.from(f32Bytes(v));
        }
        default: {
          const ctx: VectorContext = { initialPrompt: p.inv?.run.prompt ?? "", runIndex: p.inv?.run.index ?? -1, sequenceNumber: p.inv?.seq ?? 0, maxLength: p.inv?.run.length ?? steps };
          if (p.kind === "wrongDim") {
            const v = new Float32Array(Math.max(1, Math.floor(dim / 2)));
            for (let i = 0; i < v.length; i++) v[i] = rng.float() * 2 - 1;
            return Buffer.from(f32Bytes(v));
          }
          let v = options.vectorFor ? options.vectorFor(p.model.name, p.inv?.text ?? "", rng, ctx) : defaultVector(p.model, rng, ctx);
          if (v === null) return null;
          if (p.kind === "nanComponent" || p.kind === "infComponent") {
            v = Float32Array.from(v); // never write into the caller's array
            v[rng.int(v.length)] = p.kind === "nanComponent" ? NaN : Infinity;
          }
          return f32Bytes(v);
        }
      }
    };

    /** One embedding row's timestamps and vector, from its own stream: the same in any storage order and layout. */
    const embeddingContent = (p: EmbeddingPlan): { started: number; completed: number | null; blob: Buffer | null } => {
      const rng = new Rng(seed, 1_000_000 + (vectorRngIndex.get(p) ?? 0));
      const started = (p.inv?.completedMicros ?? BASE_MICROS) + 1_000_000 + rng.int(60_000_000);
      const completed = p.kind === "nullVector" ? null : started + 10_000 + rng.int(500_000);
      return { started, completed, blob: vectorBlob(p, rng) };
    };
    /** One IMAGE invocation's output bytes (drawn for every planned image, so that layouts agree). */
    const imageFor = (inv: InvocationPlan): Buffer | null => {
      if (inv.type !== "IMAGE") return null;
      for (let i = 0; i < imageBytes; i++) image[i] = misc.int(256);
      return image;
    };
    const t0 = BASE_MICROS - 60_000_000;
    const experimentStarted = t0 + 123_456;
    const experimentCompleted = edge || unfinished > 0 ? null : BASE_MICROS + runs.length * 3_600_000_000 + 654_321;

    if (!gen2) {
      const insExperiment = db.prepare("INSERT INTO experimentconfig VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      const insRun = db.prepare("INSERT INTO run VALUES (?, ?, ?, ?, ?, ?)");
      const insInvocation = db.prepare("INSERT INTO invocation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      const insEmbedding = db.prepare("INSERT INTO embedding VALUES (?, ?, ?, ?, ?, ?)");
      db.transaction(() => {
        insExperiment.run(
          experimentId,
          pyJson(networks),
          pyJson(runs.filter((r) => r.experimentId).map((r) => r.seed)),
          pyJson(prompts),
          pyJson(models.map((m) => m.name)),
          steps,
          datetimeText(experimentStarted),
          experimentCompleted === null ? null : datetimeText(experimentCompleted),
        );
        for (const run of runs) insRun.run(run.id, pyJson(run.network), run.seed, steps, run.prompt, run.experimentId);
        let previous: InvocationPlan | undefined;
        for (const inv of invocations) {
          const input = previous && previous.run === inv.run ? previous.id : null;
          const blob = imageFor(inv);
          const [started, completed] = timestamps.get(inv) ?? [0, 0];
          const model = inv.run.network[inv.seq % inv.run.network.length] ?? "";
          insInvocation.run(inv.id, datetimeText(started), datetimeText(completed), model, inv.type, inv.run.seed, inv.run.id, inv.seq, input, inv.text, blob);
          invocationCount++;
          previous = inv;
        }
        for (const p of plans) {
          const { started, completed, blob } = embeddingContent(p);
          insEmbedding.run(p.id, datetimeText(started), completed === null ? null : datetimeText(completed), p.invocationId, p.model.name, blob);
          written.add(p);
        }
      })();
    } else {
      const insExperiment = db.prepare(
        'INSERT INTO "experiments" ("id", "networks", "num_runs", "prompts", "embedding_models", "max_length", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insRun = db.prepare(
        'INSERT INTO "runs" ("id", "experiment_id", "network", "run_number", "max_length", "initial_prompt", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insInvocation = db.prepare(
        'INSERT INTO "invocations" ("id", "run_id", "input_invocation_id", "sequence_number", "type", "model", "output_text", "output_image", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insEmbedding = db.prepare(
        'INSERT INTO "embeddings" ("id", "invocation_id", "embedding_model", "vector", "started_at", "completed_at", "inserted_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      db.transaction(() => {
        // run_number counts the runs of one (experiment, network, prompt): a UNIQUE index holds them apart.
        const runNumbers = new Map<string, number>();
        const runNumber = new Map<RunPlan, number>();
        for (const run of writtenRuns) {
          const key = JSON.stringify([experimentOf(run), run.network, run.prompt]);
          const n = runNumbers.get(key) ?? 0;
          runNumbers.set(key, n + 1);
          runNumber.set(run, n);
        }
        for (const id of [experimentId, secondExperimentId]) {
          if (id === null) continue;
          const own = writtenRuns.filter((r) => experimentOf(r) === id);
          const mine = id === experimentId;
          const numRuns = Math.max(1, ...own.map((r) => (runNumber.get(r) ?? 0) + 1));
          const updated = experimentCompleted ?? experimentStarted;
          insExperiment.run(
            hyphenated(id),
            jasonJson(mine ? networks : [...new Set(own.map((r) => JSON.stringify(r.network)))].map((n) => JSON.parse(n) as string[])),
            numRuns,
            jasonJson(mine ? prompts : [...new Set(own.map((r) => r.prompt))]),
            jasonJson(models.map((m) => m.name)),
            steps,
            isoText(experimentStarted),
            experimentCompleted === null ? null : isoText(experimentCompleted),
            isoText(t0),
            isoText(updated),
          );
        }
        for (const run of writtenRuns) {
          const inserted = isoText(BASE_MICROS + run.index * 3_600_000_000 - 500_000);
          insRun.run(hyphenated(run.id), hyphenated(experimentOf(run)!), jasonJson(run.network), runNumber.get(run), steps, run.prompt, inserted, inserted);
        }
        let previous: InvocationPlan | undefined;
        for (const inv of invocations) {
          const input = previous && previous.run === inv.run ? hyphenated(previous.id) : null;
          const blob = imageFor(inv);
          previous = inv;
          if (!runWritten.has(inv.run)) continue;
          const [started, completed] = timestamps.get(inv) ?? [0, 0];
          const model = inv.run.network[inv.seq % inv.run.network.length] ?? "";
          const inserted = isoText(completed + 1_500);
          insInvocation.run(
            hyphenated(inv.id),
            hyphenated(inv.run.id),
            input,
            inv.seq,
            inv.type === "TEXT" ? "text" : "image",
            model,
            inv.text,
            blob,
            isoText(started),
            isoText(completed),
            inserted,
            inserted,
          );
          invocationCount++;
        }
        for (const p of plans) {
          if (!planWritten(p)) continue;
          const { started, completed, blob } = embeddingContent(p);
          if (blob === null) continue; // vectorFor gave none: not computed yet, so no row
          const inserted = isoText((completed ?? started) + 2_000 + (vectorRngIndex.get(p) ?? 0) % 1_000);
          insEmbedding.run(
            hyphenated(p.id),
            hyphenated(p.invocationId),
            p.model.name,
            blob,
            isoText(started),
            completed === null ? null : isoText(completed),
            inserted,
            inserted,
          );
          written.add(p);
        }
        const migrated = db.prepare('INSERT INTO "schema_migrations" ("version", "inserted_at") VALUES (?, ?)');
        ELIXIR_MIGRATIONS.forEach((version, i) => migrated.run(version, isoText(t0 - 3_600_000_000 + i * 1_000_000).slice(0, 19)));
      })();
    }
    db.pragma("journal_mode = WAL");
    db.pragma("wal_checkpoint(TRUNCATE)"); // the file must be complete without its -wal
  } finally {
    db.close();
  }

  // --- manifest (from the plan in output-like order, of what was written)
  const kept = planned.filter((p) => written.has(p));
  // Edge cases that the second generation cannot hold even on the rows it writes.
  const lost = new Set(gen2 ? ["duplicateEmbedding", "nullExperiment"] : []);
  const edgeRows: Record<string, string[]> = {};
  if (edge) {
    for (const name of EDGE_CASES) edgeRows[name] = [];
    for (const p of kept) {
      const tags = new Set<string>(p.tags);
      if (p.kind) tags.add(p.kind);
      if (p.inv?.run.tags.includes("unfinishedRun")) tags.add("unfinishedRun");
      if (builtinDim(p.model.name) === undefined) tags.add("missingReference");
      if (p.inv?.run.prompt === "" && (p.model.name === "Dummy2" || p.model.name === "DummyText2")) tags.add("zeroReference");
      for (const tag of tags) if (!lost.has(tag)) edgeRows[tag]?.push(p.id);
    }
  }
  const excluded = new Set(["yeah", "nah"]);
  const textEmbeddingRows = kept.filter((p) => p.inv?.type === "TEXT" && !excluded.has(p.inv.run.prompt)).length;

  return {
    path,
    layout,
    runIds: writtenRuns.map((r) => r.id),
    experimentIds: secondExperimentId === null ? [experimentId] : [experimentId, secondExperimentId],
    runExperiments: Object.fromEntries(writtenRuns.map((r) => [r.id, experimentOf(r)])),
    notWritten: { runs: runs.filter((r) => !runWritten.has(r)).map((r) => r.id), embeddings: planned.filter((p) => !written.has(p)).map((p) => p.id) },
    invocationCount,
    embeddingCount: written.size,
    textEmbeddingRows,
    edgeRows,
  };
}
