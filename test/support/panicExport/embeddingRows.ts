/**
 * The rows of embeddings.parquet: the exported invocations' embeddings (in
 * storage order, or run by run), vectors as float32 lists, then with
 * `embedPrompts` one prompt embedding per (text model, run).
 */
import type Database from "better-sqlite3";
import { builtinEmbedding } from "../../../src/reference/builtinEmbedders.js";
import { IMAGE_MODELS, type Cell, type VectorCell } from "./columns.js";
import type { ExportedInvocation, RunRow } from "./tableRows.js";
import type { PanicExportOptions } from "./types.js";
import { compare, hyphenate, isoTimestamp, syntheticPromptVector } from "./values.js";

type EmbeddingRow = [id: string, invocationId: string, model: string, vector: unknown, started: string | null, completed: string | null];

export interface EmbeddingExport {
  db: Database.Database;
  options: PanicExportOptions;
  /** The chosen experiments' embedding_models JSON texts. */
  experimentModels: (string | null)[];
  runs: readonly RunRow[];
  exported: ReadonlyMap<string, ExportedInvocation>;
  /** Filled while rows are produced: embeddings whose vector cannot be a list<float32>. */
  unrepresentable: string[];
  /** Filled while rows are produced: the prompt vectors written, by model then prompt. */
  promptVectors: Map<string, Map<string, VectorCell | null>>;
}

/** Rowids of the exported rows (embedding → invocation → run, as upstream's filter), in the order asked. */
function exportOrder(e: EmbeddingExport): number[] {
  const order = e.db.prepare("SELECT rowid, invocation_id, embedding_model FROM embedding ORDER BY rowid").raw(true).all() as [number, string, string][];
  const kept = order.filter(([, invocationId]) => e.exported.has(invocationId));
  if (e.options.embeddingOrder === "run") {
    kept.sort(([ra, ia, ma], [rb, ib, mb]) => {
      const a = e.exported.get(ia)!;
      const b = e.exported.get(ib)!;
      return compare(a.runId, b.runId) || compare(ma, mb) || a.seq - b.seq || ra - rb;
    });
  }
  return kept.map(([rowid]) => rowid);
}

/** A stored blob as a float32 list; null when it cannot be one (then `unrepresentable` unless it was NULL). */
function vectorList(vector: unknown): Float32Array | null {
  if (!(vector instanceof Uint8Array) || vector.byteLength % 4 !== 0) return null;
  return new Float32Array(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
}

/** Yields the rows; the first dimension seen per model sizes the default prompt vectors. */
export function* embeddingRows(e: EmbeddingExport): Generator<Cell[]> {
  const nullElements = new Set(e.options.nullElements ?? []);
  const byRowid = e.db.prepare("SELECT id, invocation_id, embedding_model, vector, started_at, completed_at FROM embedding WHERE rowid = ?").raw(true);
  const dimensions = new Map<string, number>();
  for (const rowid of exportOrder(e)) {
    const [id, invocationId, model, vector, started, completed] = byRowid.get(rowid) as EmbeddingRow;
    const hyphenated = hyphenate(id)!;
    let list: VectorCell | null = vectorList(vector);
    if (list !== null) {
      if (list.length > 0 && !dimensions.has(model)) dimensions.set(model, list.length);
      if (nullElements.has(id) && list.length > 1) {
        const withNull: (number | null)[] = Array.from(list);
        withNull[1] = null;
        list = withNull;
      }
    } else if (vector !== null) {
      e.unrepresentable.push(hyphenated);
    }
    const inserted = isoTimestamp(started);
    yield [hyphenated, hyphenate(invocationId), model, list, inserted, isoTimestamp(completed), inserted, isoTimestamp(completed) ?? inserted];
  }
  if (e.options.embedPrompts === true) yield* promptEmbeddingRows(e, dimensions);
}

/** One embedding per (run, text model of the exported experiments), model-major, as upstream appends them. */
function* promptEmbeddingRows(e: EmbeddingExport, dimensions: ReadonlyMap<string, number>): Generator<Cell[]> {
  const models = [...new Set(e.experimentModels.flatMap((text) => JSON.parse(String(text)) as string[]))].filter((m) => !IMAGE_MODELS.has(m));
  for (const model of models) {
    const byPrompt = new Map<string, VectorCell | null>();
    e.promptVectors.set(model, byPrompt);
    const dimension = builtinEmbedding(model, "")?.length ?? dimensions.get(model) ?? 768;
    for (const [id, , , prompt] of e.runs) {
      if (!byPrompt.has(prompt)) {
        const vector = e.options.promptVector ? e.options.promptVector(model, prompt, dimension) : (builtinEmbedding(model, prompt) ?? syntheticPromptVector(model, prompt, dimension));
        byPrompt.set(prompt, vector);
      }
      const runId = hyphenate(id)!;
      yield [`prompt-${runId}-${model}`, `prompt-${runId}`, model, byPrompt.get(prompt)!, null, null, null, null];
    }
  }
}
