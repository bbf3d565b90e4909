/** One reference vector: the embedding of `initialPrompt` by `embeddingModel`. */
export interface PromptVector {
  initialPrompt: string;
  embeddingModel: string;
  /** Held in float64: the kernel works in float64, and file vectors may be float64. */
  vector: Float64Array;
}

/** The one key of an (initial_prompt, embedding_model) pair in maps and sets. */
export function pairKey(initialPrompt: string, embeddingModel: string): string {
  return JSON.stringify([initialPrompt, embeddingModel]);
}
