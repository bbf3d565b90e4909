import type { OutputPolicy } from "../sink/outputGuard.js";
import { existingOutputKind } from "../sink/outputKind.js";
import type { DriftSource } from "../sources/driftSource.js";
import type { Embedder } from "./embedder.js";
import { CommandEmbedder } from "./embedCommand.js";
import { ServerEmbedder } from "./embedServer.js";
import { embedSourceFor, type EmbedSpec } from "./embedSpec.js";
import type { PromptVector } from "../frame/promptVector.js";
import { readReferenceCache, writeReferenceCache, type CachedVector } from "./referenceCache.js";
import { referenceCachePath } from "./referenceCacheFile.js";
import { ReferenceResolver, type ReferenceVectors } from "./referenceResolver.js";
import { throwIfInterrupted, whenInterrupted } from "../common/interruptCleanup.js";

/**
 * The reference vectors of the reference cache that count for `spec`,
 * after fetching those of the (initial_prompt, embedding_model) pairs the run
 * needs and nothing provides yet: not the user's file, not the built-in
 * embedders, not the cache. Pairs whose rows all lack a vector are not
 * asked for. One embedder call per model; the cache is rewritten (atomically)
 * only when something new came back.
 */
export async function embedMissingReferences(
  source: DriftSource,
  /** What already supplies references (the cache aside): the user's file, the input's own. */
  known: ReferenceVectors,
  spec: EmbedSpec,
  output: string,
  excludePrompts: ReadonlySet<string>,
  /** How the cache may be written (its inputs, --overwrite); see referenceCachePolicy. */
  cachePolicy: OutputPolicy,
  /** Stops at once: the command killed, nothing written. */
  signal?: AbortSignal,
): Promise<PromptVector[]> {
  const cachePath = referenceCachePath(output);
  // A file there that is not a cache of ours is replaced only with --overwrite (the guard has refused it otherwise).
  const cached = existingOutputKind(cachePath) === "reference cache" || !cachePolicy.overwrite ? await readReferenceCache(cachePath) : [];
  const current = cached.filter((c) => c.source === embedSourceFor(spec, c.embeddingModel));
  const resolver = new ReferenceResolver({ ...known, cache: current });
  const promptsByModel = new Map<string, string[]>();
  for (const pair of source.pairCounts(excludePrompts)) {
    if (pair.rowsWithVector === 0 || resolver.resolve(pair) !== undefined) continue;
    const prompts = promptsByModel.get(pair.embeddingModel) ?? [];
    prompts.push(pair.initialPrompt);
    promptsByModel.set(pair.embeddingModel, prompts);
  }
  if (promptsByModel.size === 0) return current;

  const fresh: CachedVector[] = [];
  throwIfInterrupted(signal);
  const embedder = createEmbedder(spec);
  // The pending request fails at once (its caller then sees the interruption).
  const stopListening = whenInterrupted(signal, () => void embedder.close({ now: true }).catch(() => undefined));
  try {
    for (const [model, prompts] of [...promptsByModel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      throwIfInterrupted(signal);
      prompts.sort();
      const vectors = await embedder.embed(model, prompts);
      const from = embedSourceFor(spec, model);
      prompts.forEach((prompt, i) => fresh.push({ initialPrompt: prompt, embeddingModel: model, source: from, vector: vectors[i]! }));
    }
  } finally {
    stopListening();
    await embedder.close();
  }
  throwIfInterrupted(signal);
  await writeReferenceCache(cachePath, [...cached, ...fresh], cachePolicy);
  return [...current, ...fresh];
}

function createEmbedder(spec: EmbedSpec): Embedder {
  if (spec.kind === "command") return new CommandEmbedder(spec.command, { batchSize: spec.batchSize });
  return new ServerEmbedder({
    baseUrl: spec.url,
    models: new Map(Object.entries(spec.models ?? {})),
    ...(spec.apiKey === undefined ? {} : { apiKey: spec.apiKey }),
    ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
  });
}
