/**
 * Deterministic generator of panic-tda SQLite databases, for tests and
 * benchmarks, in either layout: first generation ("Python era", what
 * SQLModel/SQLAlchemy wrote) or second generation ("Elixir era", what
 * Ash/ecto_sqlite3 write). Independent of the product code but for its
 * MT19937 (upstream's Dummy embedder needs numpy's, and only shapes default
 * vectors). The same options and seed plan the same experiment in both: runs,
 * invocations, texts, vectors, timestamps and ids; the second generation
 * leaves out what its constraints would refuse (see `PanicDbLayout`).
 *
 * The pieces live in ./panicDb/; this entry plans, writes and reports, in an
 * order that fixes every random draw: changing it changes every database.
 */
import { writeDatabase } from "./panicDb/database.js";
import { planEmbeddings } from "./panicDb/embeddings.js";
import { writeGen1 } from "./panicDb/gen1.js";
import { writeGen2 } from "./panicDb/gen2.js";
import { selectWritten } from "./panicDb/layout.js";
import { buildManifest } from "./panicDb/manifest.js";
import { Rng } from "./panicDb/rng.js";
import { finishedOrdinaryRuns, planInvocations, planRuns } from "./panicDb/runs.js";
import { resolveSettings } from "./panicDb/settings.js";
import type { PanicDbManifest, PanicDbOptions } from "./panicDb/types.js";
import { VectorMaker } from "./panicDb/vectors.js";
import { experimentTimes, imageMaker, type WritePlan } from "./panicDb/writing.js";

export { driftingCaption } from "./panicDb/captions.js";
export { EDGE_CASES, EDGE_DB_OPTIONS, NULL_DRIFT_EDGES } from "./panicDb/edgeCases.js";
export { BUILTIN_DIMS } from "./panicDb/references.js";
export { Rng } from "./panicDb/rng.js";
export { ELIXIR_DDL, PANIC_DDL } from "./panicDb/schema.js";
export type { EmbeddingModelSpec, PanicDbLayout, PanicDbManifest, PanicDbOptions, TextContext, VectorContext } from "./panicDb/types.js";

export function makePanicDb(path: string, options: PanicDbOptions = {}): PanicDbManifest {
  const s = resolveSettings(options);
  // Separate streams, so that e.g. `shuffle` changes only the storage order.
  const ids = new Rng(s.seed, 1);
  const misc = new Rng(s.seed, 2);
  const shuffler = new Rng(s.seed, 3);

  const experimentId = ids.hex32();
  const runs = planRuns(s, experimentId, ids);
  const ordinaryRuns = finishedOrdinaryRuns(s, runs);
  const invocations = planInvocations(s, runs, ids, misc);
  const planned = planEmbeddings({ runs, invocations, ordinaryRuns, models: s.models, edge: s.edge, ids, misc });

  const selection = selectWritten(s.layout, s.seed, runs);
  const storageOrder = [...planned];
  if (s.shuffle) shuffler.shuffle(storageOrder);
  const plan: WritePlan = {
    s,
    experimentId,
    runs,
    invocations,
    storageOrder,
    selection,
    vectors: new VectorMaker(s.seed, s.steps, s.vectorFor, planned),
    imageFor: imageMaker(misc, s.imageBytes),
    times: experimentTimes(s, runs.length),
  };
  const result = writeDatabase(path, selection.gen2, (db) => (selection.gen2 ? writeGen2(db, plan) : writeGen1(db, plan)));
  return buildManifest({ path, layout: s.layout, edge: s.edge, experimentId, runs, planned, selection, result });
}
