/**
 * The rows of experiments.parquet, runs.parquet and invocations.parquet, read
 * from a first-generation database (the tuples follow the SELECTs' columns,
 * typed as makePanicDb's schema stores them).
 */
import type Database from "better-sqlite3";
import type { Cell } from "./columns.js";
import { compactJson, compare, hyphenate, isoTimestamp } from "./values.js";

type ExperimentRow = [id: string, networks: string | null, seeds: string | null, prompts: string | null, models: string | null, maxLength: number, started: string | null, completed: string | null];
export type RunRow = [id: string, network: string | null, maxLength: number, prompt: string, experimentId: string | null];
type InvocationRow = [id: string, runId: string, input: string | null, seq: number, type: string, model: string | null, text: string | null, started: string | null, completed: string | null];

/** What is exported: the chosen experiments, and their runs in the database's order. */
export interface Selection {
  experiments: ExperimentRow[];
  runs: RunRow[];
  /** Hyphenated ids of runs left out for having no experiment. */
  runsWithoutExperiment: string[];
}

/** `wanted`: experiment ids, raw or hyphenated, in any case; default every experiment. */
export function select(db: Database.Database, wanted: string[] | undefined): Selection {
  const all = db.prepare("SELECT id, networks, seeds, prompts, embedding_models, max_length, started_at, completed_at FROM experimentconfig").raw(true).all() as ExperimentRow[];
  const ids = new Set((wanted ?? all.map((e) => e[0])).map((id) => id.replaceAll("-", "").toLowerCase()));
  const allRuns = db.prepare("SELECT id, network, max_length, initial_prompt, experiment_id FROM run ORDER BY rowid").raw(true).all() as RunRow[];
  return {
    experiments: all.filter((e) => ids.has(e[0].toLowerCase())),
    runs: allRuns.filter((r) => r[4] !== null && ids.has(r[4].toLowerCase())),
    runsWithoutExperiment: allRuns.filter((r) => r[4] === null).map((r) => hyphenate(r[0])!),
  };
}

/** Upstream's experiment rows: num_runs counted, inserted/updated from the experiment's own times. */
export function experimentRows({ experiments, runs }: Selection): Cell[][] {
  return experiments.map(([id, networks, , prompts, models, maxLength, started, completed]) => {
    const count = runs.filter((r) => r[4] === id).length;
    const inserted = isoTimestamp(started) ?? isoTimestamp(completed);
    return [hyphenate(id), compactJson(networks), count, compactJson(prompts), compactJson(models), maxLength, isoTimestamp(started), isoTimestamp(completed), inserted, isoTimestamp(completed) ?? inserted];
  });
}

/** run_number counts each experiment's runs in order; a run's times are its experiment's start. */
export function runRows({ experiments, runs }: Selection): Cell[][] {
  const runNumber = new Map<string | null, number>();
  return runs.map(([id, network, maxLength, prompt, experimentId]) => {
    const n = runNumber.get(experimentId) ?? 0;
    runNumber.set(experimentId, n + 1);
    const stamp = isoTimestamp(experiments.find((e) => e[0] === experimentId)?.[6] ?? null);
    return [hyphenate(id), hyphenate(experimentId), compactJson(network), n, maxLength, prompt, stamp, stamp];
  });
}

export interface ExportedInvocation {
  /** Hyphenated. */
  runId: string;
  seq: number;
}

/**
 * The exported runs' invocations, sorted by (run_id, sequence_number) as
 * upstream reads them, then with `embedPrompts` one prompt row per run; and
 * the exported invocations by raw id, for the embeddings.
 */
export function invocationRows(db: Database.Database, runs: readonly RunRow[], embedPrompts: boolean): { rows: Cell[][]; exported: Map<string, ExportedInvocation> } {
  const runSet = new Set(runs.map((r) => r[0]));
  const rows: Cell[][] = [];
  const exported = new Map<string, ExportedInvocation>();
  const all = db.prepare("SELECT id, run_id, input_invocation_id, sequence_number, type, model, output_text, started_at, completed_at FROM invocation").raw(true);
  for (const [id, runId, input, seq, type, model, text, started, completed] of all.iterate() as IterableIterator<InvocationRow>) {
    if (!runSet.has(runId)) continue;
    exported.set(id, { runId: hyphenate(runId)!, seq });
    const inserted = isoTimestamp(started);
    rows.push([hyphenate(id), hyphenate(runId), input === null ? null : hyphenate(input), seq, type.toLowerCase(), model, text, inserted, isoTimestamp(completed), inserted, isoTimestamp(completed) ?? inserted]);
  }
  rows.sort((a, b) => compare(String(a[1]), String(b[1])) || Number(a[3]) - Number(b[3]));
  if (embedPrompts) {
    for (const [id, , , prompt] of runs) {
      const runId = hyphenate(id)!;
      rows.push([`prompt-${runId}`, runId, null, -1, "text", null, prompt, null, null, null, null]);
    }
  }
  return { rows, exported };
}
