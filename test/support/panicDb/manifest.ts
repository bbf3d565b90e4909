/** The manifest of what was written, from the plan in output-like order. */
import type { EmbeddingPlan } from "./embeddings.js";
import { EDGE_CASES } from "./edgeCases.js";
import type { LayoutSelection } from "./layout.js";
import { builtinDim } from "./references.js";
import type { RunPlan } from "./runs.js";
import type { PanicDbLayout, PanicDbManifest } from "./types.js";
import type { WriteResult } from "./writing.js";

/** The edge cases a written row exhibits: its own tags and kind, and those its run and model imply. */
function tagsOf(p: EmbeddingPlan): Set<string> {
  const tags = new Set<string>(p.tags);
  if (p.kind) tags.add(p.kind);
  if (p.inv?.run.tags.includes("unfinishedRun")) tags.add("unfinishedRun");
  if (builtinDim(p.model.name) === undefined) tags.add("missingReference");
  if (p.inv?.run.prompt === "" && (p.model.name === "Dummy2" || p.model.name === "DummyText2")) tags.add("zeroReference");
  return tags;
}

function edgeRowsOf(kept: readonly EmbeddingPlan[], gen2: boolean): Record<string, string[]> {
  // Edge cases that the second generation cannot hold even on the rows it writes.
  const lost = new Set(gen2 ? ["duplicateEmbedding", "nullExperiment"] : []);
  const edgeRows: Record<string, string[]> = {};
  for (const name of EDGE_CASES) edgeRows[name] = [];
  for (const p of kept) for (const tag of tagsOf(p)) if (!lost.has(tag)) edgeRows[tag]?.push(p.id);
  return edgeRows;
}

interface ManifestInput {
  path: string;
  layout: PanicDbLayout;
  edge: boolean;
  experimentId: string;
  runs: readonly RunPlan[];
  /** Embedding rows in output-like order (unshuffled). */
  planned: readonly EmbeddingPlan[];
  selection: LayoutSelection;
  result: WriteResult;
}

export function buildManifest({ path, layout, edge, experimentId, runs, planned, selection, result }: ManifestInput): PanicDbManifest {
  const { written } = result;
  const kept = planned.filter((p) => written.has(p));
  const excluded = new Set(["yeah", "nah"]);
  const { writtenRuns, runWritten, secondExperimentId } = selection;
  return {
    path,
    layout,
    runIds: writtenRuns.map((r) => r.id),
    experimentIds: secondExperimentId === null ? [experimentId] : [experimentId, secondExperimentId],
    runExperiments: Object.fromEntries(writtenRuns.map((r) => [r.id, selection.experimentOf(r)])),
    notWritten: { runs: runs.filter((r) => !runWritten.has(r)).map((r) => r.id), embeddings: planned.filter((p) => !written.has(p)).map((p) => p.id) },
    invocationCount: result.invocationCount,
    embeddingCount: written.size,
    textEmbeddingRows: kept.filter((p) => p.inv?.type === "TEXT" && !excluded.has(p.inv.run.prompt)).length,
    edgeRows: edge ? edgeRowsOf(kept, selection.gen2) : {},
  };
}
