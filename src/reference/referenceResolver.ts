import { createHash } from "node:crypto";
import type { ReferencePair } from "../frame/referencePairs.js";
import { builtinEmbedding } from "./builtinEmbedders.js";
import { pairKey, type PromptVector } from "../frame/promptVector.js";

/** Where a reference vector came from, in order of precedence. */
export type ReferenceOrigin = "file" | "stored" | "cache" | "builtin";

export interface ResolvedReference {
  readonly vector: ArrayLike<number>;
  readonly origin: ReferenceOrigin;
}

/** The vectors that can supply a reference, by origin (the built-ins need none). */
export interface ReferenceVectors {
  /** The user's --prompt-vectors file. */
  readonly file?: readonly PromptVector[];
  /** What the input stores itself (a parquet export's prompt rows). */
  readonly stored?: readonly PromptVector[];
  /** The reference cache's vectors from the embedder in use (--embed-*). */
  readonly cache?: readonly PromptVector[];
}

/**
 * Bumped whenever a built-in embedder's output could change, so that caches
 * made with the old one are recomputed.
 */
export const BUILTIN_EMBEDDERS_VERSION = "panic-tda-dummy-1";

/**
 * Finds the reference vector of a (prompt, model) pair; the one place that
 * says which origin wins: the user's --prompt-vectors file, then the vectors
 * the input stores itself, then the reference cache (what --embed-* fetched),
 * then the bit-exact built-in test embedders.
 */
export class ReferenceResolver {
  private readonly byOrigin: readonly (readonly [ReferenceOrigin, Map<string, Float64Array>])[];

  constructor(vectors: ReferenceVectors = {}) {
    this.byOrigin = [
      ["file", byPair(vectors.file)],
      ["stored", byPair(vectors.stored)],
      ["cache", byPair(vectors.cache)],
    ];
  }

  resolve(pair: ReferencePair): ResolvedReference | undefined {
    const key = pairKey(pair.initialPrompt, pair.embeddingModel);
    for (const [origin, vectors] of this.byOrigin) {
      const vector = vectors.get(key);
      if (vector !== undefined) return { vector, origin };
    }
    const builtin = builtinEmbedding(pair.embeddingModel, pair.initialPrompt);
    if (builtin !== undefined) return { vector: builtin, origin: "builtin" };
    return undefined;
  }
}

/** Later vectors of a pair replace earlier ones. */
function byPair(vectors: readonly PromptVector[] = []): Map<string, Float64Array> {
  return new Map(vectors.map((v) => [pairKey(v.initialPrompt, v.embeddingModel), v.vector]));
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
