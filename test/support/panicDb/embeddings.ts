/**
 * The plan of embedding rows, in output-like order before any shuffle: one per
 * (TEXT invocation, model), then the edge cases planted on or beside them.
 * Ids come from the shared `ids` stream in this order; the edge cases' choice
 * of rows from `misc`, after the invocations' timestamps.
 */
import { PER_ROW_EDGES, type EdgeKind } from "./edgeCases.js";
import { builtinDim } from "./references.js";
import type { Rng } from "./rng.js";
import type { InvocationPlan, RunPlan } from "./runs.js";
import type { EmbeddingModelSpec } from "./types.js";

export interface EmbeddingPlan {
  id: string;
  /** Undefined for the orphan. */
  inv: InvocationPlan | undefined;
  invocationId: string;
  model: EmbeddingModelSpec;
  kind: EdgeKind | null;
  tags: string[];
  /** The `duplicateEmbedding` copy (not the row it copies). */
  duplicate?: boolean;
}

interface Planner {
  plans: EmbeddingPlan[];
  add: (inv: InvocationPlan | undefined, model: EmbeddingModelSpec, kind: EdgeKind | null, tags?: string[]) => EmbeddingPlan;
}

function planner(ids: Rng): Planner {
  const plans: EmbeddingPlan[] = [];
  const add: Planner["add"] = (inv, model, kind, tags = []) => {
    // The row's id is drawn before the orphan's made-up invocation id.
    const plan: EmbeddingPlan = { id: ids.hex32(), inv, invocationId: inv?.id ?? ids.hex32(), model, kind, tags };
    plans.push(plan);
    return plan;
  };
  return { plans, add };
}

function textsByRun(invocations: readonly InvocationPlan[]): Map<RunPlan, InvocationPlan[]> {
  const byRun = new Map<RunPlan, InvocationPlan[]>();
  for (const inv of invocations) {
    if (inv.type !== "TEXT") continue;
    const list = byRun.get(inv.run) ?? [];
    list.push(inv);
    byRun.set(inv.run, list);
  }
  return byRun;
}

/** The model edge cases are planted on: the first with a built-in reference, so that only the edge case makes its drift NULL. */
function edgeModelOf(models: readonly EmbeddingModelSpec[]): EmbeddingModelSpec {
  return models.find((m) => builtinDim(m.name) !== undefined) ?? models[0]!;
}

interface EmbeddingPlanInput {
  runs: readonly RunPlan[];
  invocations: readonly InvocationPlan[];
  /** The finished ordinary runs: only their rows take per-row edge cases. */
  ordinaryRuns: readonly RunPlan[];
  models: readonly EmbeddingModelSpec[];
  edge: boolean;
  ids: Rng;
  misc: Rng;
}

export function planEmbeddings(input: EmbeddingPlanInput): EmbeddingPlan[] {
  const { runs, models, ordinaryRuns } = input;
  const { plans, add } = planner(input.ids);
  const byRun = textsByRun(input.invocations);
  const edgeModel = edgeModelOf(models);
  const slots: EmbeddingPlan[] = []; // candidate rows for per-row edge cases
  for (const run of runs) {
    const texts = byRun.get(run) ?? [];
    texts.forEach((inv, k) => {
      const tail = run.nullTail && k === texts.length - 1;
      for (const model of models) {
        const plan = add(inv, model, tail ? "nullVector" : null, [...run.tags]);
        if (!tail && model === edgeModel && ordinaryRuns.includes(run)) slots.push(plan);
      }
    });
  }
  if (input.edge) plantEdgeCases({ ...input, add, byRun, edgeModel, slots });
  return plans;
}

interface EdgeInput extends EmbeddingPlanInput {
  add: Planner["add"];
  byRun: Map<RunPlan, InvocationPlan[]>;
  edgeModel: EmbeddingModelSpec;
  slots: EmbeddingPlan[];
}

/** Per-row edge cases on shuffled candidate rows, then the extra rows: a duplicate, unreferenced models, an orphan, an image's embedding. */
function plantEdgeCases({ runs, invocations, models, misc, add, byRun, ordinaryRuns, edgeModel, slots }: EdgeInput): void {
  if (slots.length < PER_ROW_EDGES.length + 1) throw new Error("makePanicDb: edgeCases needs more ordinary TEXT invocations (raise runs or steps)");
  misc.shuffle(slots);
  PER_ROW_EDGES.forEach((kind, i) => {
    slots[i]!.kind = kind;
  });
  const dupOf = slots[PER_ROW_EDGES.length]!;
  dupOf.tags.push("duplicateEmbedding");
  add(dupOf.inv, dupOf.model, null, ["duplicateEmbedding"]).duplicate = true;

  const firstText = byRun.get(ordinaryRuns[0]!)?.[0];
  // A real model name with no built-in reference.
  if (!models.some((m) => builtinDim(m.name) === undefined)) add(firstText, { name: "Nomic", dim: 768 }, null);
  // The empty prompt's Dummy2 reference is all zero: make sure such rows exist.
  const emptyRun = runs.find((r) => r.tags.includes("emptyPrompt"));
  if (emptyRun && !models.some((m) => m.name === "Dummy2" || m.name === "DummyText2")) {
    for (const inv of byRun.get(emptyRun) ?? []) add(inv, { name: "Dummy2", dim: 768 }, null, [...emptyRun.tags]);
  }
  add(undefined, edgeModel, null, ["orphanEmbedding"]);
  const image = invocations.find((i) => i.type === "IMAGE" && i.run === ordinaryRuns[0]);
  add(image, edgeModel, null, ["imageEmbedding"]);
}
