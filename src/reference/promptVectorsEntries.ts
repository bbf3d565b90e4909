/**
 * A --prompt-vectors entry as the file holds it, and the checks every layout
 * shares: an odd entry is an error naming the file, the entry and the fix.
 */
import { PanicDriftError } from "../common/errors.js";
import { pairKey, type PromptVector } from "../frame/promptVector.js";
import { describeValue, preview } from "./messageText.js";

/** An entry as the file holds it, before any check. */
export interface Located {
  /** For messages: "entry 3" (JSON) or "row 3" (CSV, parquet), 1-based. */
  where: string;
  initialPrompt: unknown;
  embeddingModel: unknown;
  vector: unknown;
}

export const ENTRY_FIX =
  'every entry needs a string "initial_prompt", a non-empty string "embedding_model" ' +
  'and a non-empty "vector" of finite numbers';

/** The entries as PromptVectors: one vector per (initial_prompt, embedding_model), one dimension per model. */
export function validate(entries: readonly Located[], file: string): PromptVector[] {
  const out: PromptVector[] = [];
  const dims = new Map<string, { dim: number; where: string }>();
  const seen = new Map<string, { vector: Float64Array; where: string }>();
  for (const entry of entries) {
    const pv = toPromptVector(entry, file);
    const where = entry.where;

    const dim = dims.get(pv.embeddingModel);
    if (dim === undefined) {
      dims.set(pv.embeddingModel, { dim: pv.vector.length, where });
    } else if (dim.dim !== pv.vector.length) {
      throw invalid(
        file,
        where,
        `embedding model ${preview(pv.embeddingModel)} has a vector of dimension ${pv.vector.length} ` +
          `but ${dim.where} has dimension ${dim.dim}`,
        "all vectors of one embedding model must have the same dimension",
      );
    }

    const key = pairKey(pv.initialPrompt, pv.embeddingModel);
    const prior = seen.get(key);
    if (prior === undefined) {
      seen.set(key, { vector: pv.vector, where });
      out.push(pv);
    } else if (!sameVector(prior.vector, pv.vector)) {
      throw invalid(
        file,
        where,
        `initial_prompt ${preview(pv.initialPrompt)} with embedding_model ${preview(pv.embeddingModel)} ` +
          `has a different vector than ${prior.where}`,
        "keep one vector per (initial_prompt, embedding_model)",
      );
    }
    // An identical repeat adds nothing: keep the first.
  }
  return out;
}

function requireString(value: unknown, key: string, file: string, where: string): asserts value is string {
  if (typeof value === "string") return;
  const problem = value === undefined ? `${key} is missing` : `${key} is ${describeValue(value)}, not a string`;
  throw invalid(file, where, problem, ENTRY_FIX);
}

function toPromptVector(entry: Located, file: string): PromptVector {
  const { where, initialPrompt, embeddingModel, vector } = entry;
  requireString(initialPrompt, "initial_prompt", file, where);
  requireString(embeddingModel, "embedding_model", file, where);
  // A nameless model could never match a run's embeddings.
  if (embeddingModel === "") throw invalid(file, where, "embedding_model is empty", ENTRY_FIX);
  if (vector === undefined || vector === null) throw invalid(file, where, "vector is missing", ENTRY_FIX);
  if (!Array.isArray(vector)) throw invalid(file, where, `vector is ${describeValue(vector)}, not an array`, ENTRY_FIX);
  if (vector.length === 0) throw invalid(file, where, "vector is empty", ENTRY_FIX);

  const values = new Float64Array(vector.length);
  vector.forEach((x: unknown, i) => {
    if (typeof x !== "number") {
      throw invalid(file, where, `vector[${i}] is ${describeValue(x)}, not a number`, ENTRY_FIX);
    }
    // JSON turns 1e400 into Infinity, so this also catches out-of-range numbers.
    if (!Number.isFinite(x)) throw invalid(file, where, `vector[${i}] is ${x}, not a finite number`, ENTRY_FIX);
    values[i] = x;
  });
  return { initialPrompt, embeddingModel, vector: values };
}

function sameVector(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function invalid(file: string, where: string, problem: string, fix: string): PanicDriftError {
  return new PanicDriftError(
    "PROMPT_VECTORS_INVALID",
    `invalid prompt vectors file ${file}, ${where}: ${problem}: ${fix}`,
  );
}
