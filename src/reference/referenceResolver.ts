import { createHash } from "node:crypto";
import type { ReferencePair } from "../frame/referencePairs.js";
import { builtinEmbedding } from "./builtinEmbedders.js";
import type { PromptVector } from "./promptVector.js";

/** Where a reference vector came from, in order of precedence. */
export type ReferenceOrigin = "file" | "stored" | "builtin";

export interface ResolvedReference {
  readonly vector: ArrayLike<number>;
  readonly origin: ReferenceOrigin;
}

/**
 * Bumped whenever a built-in embedder's output could change, so that caches
 * made with the old one are recomputed.
 */
export const BUILTIN_EMBEDDERS_VERSION = "panic-tda-dummy-1";

/**
 * Finds the reference vector of a (prompt, model) pair: the user's
 * --prompt-vectors file first, then the vectors the input stores itself (a
 * parquet export's prompt rows), then the bit-exact built-in test embedders.
 */
export class ReferenceResolver {
  private readonly fromFile: Map<string, Map<string, Float64Array>>;
  private readonly stored: Map<string, Map<string, Float64Array>>;

  constructor(fileVectors: readonly PromptVector[] = [], storedVectors: readonly PromptVector[] = []) {
    this.fromFile = byPrompt(fileVectors);
    this.stored = byPrompt(storedVectors);
  }

  resolve(pair: ReferencePair): ResolvedReference | undefined {
    const file = this.fromFile.get(pair.initialPrompt)?.get(pair.embeddingModel);
    if (file !== undefined) return { vector: file, origin: "file" };
    const stored = this.stored.get(pair.initialPrompt)?.get(pair.embeddingModel);
    if (stored !== undefined) return { vector: stored, origin: "stored" };
    const builtin = builtinEmbedding(pair.embeddingModel, pair.initialPrompt);
    if (builtin !== undefined) return { vector: builtin, origin: "builtin" };
    return undefined;
  }
}

function byPrompt(vectors: readonly PromptVector[]): Map<string, Map<string, Float64Array>> {
  const map = new Map<string, Map<string, Float64Array>>();
  for (const v of vectors) {
    let byModel = map.get(v.initialPrompt);
    if (byModel === undefined) map.set(v.initialPrompt, (byModel = new Map()));
    byModel.set(v.embeddingModel, v.vector);
  }
  return map;
}

/**
 * Digest of everything that can supply a reference: the bytes of the
 * --prompt-vectors file (if any), the built-in embedders' version, and the
 * embedder with the digest of its reference cache. Cheap, and it changes
 * whenever a reference could.
 */
export function referenceDigest(
  promptVectorsBytes: Uint8Array | undefined,
  embedder?: { readonly description: string; readonly cacheDigest: string },
): string {
  const hash = createHash("sha256");
  hash.update(`builtin:${BUILTIN_EMBEDDERS_VERSION}\n`);
  if (promptVectorsBytes !== undefined) {
    hash.update("file:");
    hash.update(promptVectorsBytes);
  }
  if (embedder !== undefined) hash.update(`\nembedder:${embedder.description}\ncache:${embedder.cacheDigest}`);
  return hash.digest("hex");
}
