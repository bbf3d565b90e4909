import { resolve } from "node:path";
import { DEFAULT_EXCLUDED_PROMPTS } from "./plan.js";
import { defaultOutputPath } from "../sink/defaultFramePath.js";
import { readPromptVectorsFile } from "../reference/promptVectorsFile.js";
import { readReferenceCache } from "../reference/referenceCache.js";
import { referenceCachePath } from "../reference/referenceCacheFile.js";
import { ReferenceResolver } from "../reference/referenceResolver.js";
import type { SourceFilters } from "../sources/sourceFilters.js";
import { openSource } from "../sources/openSource.js";
import { unmatchedFilterError } from "../sources/runRecords.js";
import { inputFiles } from "../sources/inputFiles.js";
import type { ProtectedInput } from "../sink/outputGuard.js";

export interface ListPromptsOptions {
  db: string;
  /** A --prompt-vectors file: its pairs show as resolved by "file". */
  promptVectors?: string;
  /** A reference cache (default: the one beside the default compute output). */
  referenceCache?: string;
  /** As for compute; default DEFAULT_EXCLUDED_PROMPTS. */
  excludePrompts?: readonly string[];
  /** As for compute: only these experiments, runs or embedding models. */
  filters?: SourceFilters;
}

/**
 * What resolves a pair today: the user's file, the input's own prompt rows
 * (a parquet export), a built-in embedder, the reference cache, or nothing
 * yet ("").
 */
export type ResolvedBy = "file" | "stored" | "builtin" | "cache" | "";

/** One (initial_prompt, embedding_model) pair that compute needs a reference vector for. */
export interface PromptPair {
  initial_prompt: string;
  embedding_model: string;
  resolved_by: ResolvedBy;
  /** Text-embedding rows of the pair (their drift needs this reference). */
  rows: number;
}

/**
 * The (initial_prompt, embedding_model) pairs a `compute` of `db` needs
 * references for, so that they can be embedded anywhere and handed back
 * with --prompt-vectors. Pairs whose rows all have NULL vectors are left
 * out (no drift to compute). Sorted by model, then prompt.
 */
export async function listPrompts(options: ListPromptsOptions): Promise<PromptPair[]> {
  const fileVectors = options.promptVectors === undefined ? [] : await readPromptVectorsFile(options.promptVectors);
  const cached = await readReferenceCache(referenceCacheOf(options));
  const source = openSource(options.db, { filters: options.filters ?? {} });
  try {
    const unmatched = source.unmatchedFilters();
    if (unmatched.length > 0) throw unmatchedFilterError(unmatched, source.path);
    const known = new ReferenceResolver({ file: fileVectors, stored: source.storedReferences?.() ?? [], cache: cached });
    const excluded = new Set(options.excludePrompts ?? DEFAULT_EXCLUDED_PROMPTS);
    return source
      .pairCounts(excluded)
      .filter((pair) => pair.rowsWithVector > 0)
      .map((pair) => {
        const resolvedBy: ResolvedBy = known.resolve(pair)?.origin ?? "";
        return { initial_prompt: pair.initialPrompt, embedding_model: pair.embeddingModel, resolved_by: resolvedBy, rows: pair.rows };
      })
      .sort((a, b) => compare(a.embedding_model, b.embedding_model) || compare(a.initial_prompt, b.initial_prompt));
  } finally {
    source.close();
  }
}

/** The reference cache listPrompts reads: the one given, or the one beside compute's default output. */
function referenceCacheOf(options: Pick<ListPromptsOptions, "db" | "referenceCache">): string {
  return options.referenceCache ?? referenceCachePath(resolve(defaultOutputPath(options.db)));
}

/** Every file listPrompts reads, which a list written to a file must never replace. */
export function promptsInputs(options: Pick<ListPromptsOptions, "db" | "promptVectors" | "referenceCache">): ProtectedInput[] {
  return [
    ...inputFiles(options.db),
    ...(options.promptVectors === undefined ? [] : [{ path: options.promptVectors, what: "the --prompt-vectors file" }]),
    { path: referenceCacheOf(options), what: "the reference cache" },
  ];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
