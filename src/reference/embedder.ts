/**
 * Something that turns texts into vectors with a named embedding model: a
 * user's command (embedCommand.ts) or an OpenAI-compatible server
 * (embedServer.ts). panic-drift asks it only for the (prompt, model) pairs it
 * has no reference for yet.
 */
export interface Embedder {
  /** Where the vectors come from, as recorded beside them in the reference cache, e.g. `cmd:python embed.py`. */
  readonly source: string;
  /**
   * The vectors of `texts` by panic-tda model `model`, in order, all of one
   * dimension, held in float64. Fails with a PanicDriftError naming the model
   * and the first text concerned.
   */
  embed(model: string, texts: readonly string[]): Promise<Float64Array[]>;
  /**
   * Releases what the embedder holds (a child process, connections). With
   * `now` (the run was interrupted) nothing is waited for: a command is
   * signalled at once and killed if it is not gone within half a second.
   */
  close(options?: { now?: boolean }): Promise<void>;
}
