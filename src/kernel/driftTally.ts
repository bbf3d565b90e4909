import { emptyReasonCounts, type NullReason } from "./nullReason.js";

/**
 * What a run of the kernel found, as plain data so that tallies from
 * parallel workers can be posted and merged.
 */
export interface DriftTally {
  rows: number;
  rowsWithDrift: number;
  nullReasons: Record<NullReason, number>;
  /** model → prompt → rows that had a vector but no reference. */
  missing: Record<string, Record<string, number>>;
  /** model → the vector dimensions that differed from its reference's, and how many rows. */
  mismatched: Record<string, { dimensions: number[]; reference: number; rows: number }>;
  /**
   * The same per run (by run index): what an incremental update keeps of
   * the runs it does not recompute, so that its counts and warnings equal
   * a full recompute's.
   */
  runs: Record<number, RunTally>;
}

/** One run's share of a tally; `missing` counts rows per model (the prompt is the run's). */
export interface RunTally {
  rows: number;
  rowsWithDrift: number;
  nullReasons: Partial<Record<NullReason, number>>;
  missing: Record<string, number>;
  mismatched: Record<string, { dimensions: number[]; reference: number; rows: number }>;
}

export function emptyTally(): DriftTally {
  return { rows: 0, rowsWithDrift: 0, nullReasons: emptyReasonCounts(), missing: {}, mismatched: {}, runs: {} };
}

export function emptyRunTally(): RunTally {
  return { rows: 0, rowsWithDrift: 0, nullReasons: {}, missing: {}, mismatched: {} };
}

/** The runs' tallies as compact JSON (empty fields left out: most runs have only counts). */
export function runTalliesJson(runs: Readonly<Record<number, RunTally>>): string {
  return JSON.stringify(runs, (key, value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0 && key !== "" ? undefined : value,
  );
}

/** Reads runTalliesJson's output back (undefined when it is not that). */
export function parseRunTallies(json: string | undefined): Record<string, RunTally> | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== "object") return undefined;
    const runs: Record<string, RunTally> = {};
    for (const [index, run] of Object.entries(parsed as Record<string, unknown>)) {
      if (run === null || typeof run !== "object") return undefined;
      const tally = run as Partial<RunTally>;
      if (typeof tally.rows !== "number" || typeof tally.rowsWithDrift !== "number") return undefined;
      runs[index] = { ...emptyRunTally(), ...tally };
    }
    return runs;
  } catch {
    return undefined;
  }
}

/** Adds a run's tally (kept from an earlier file) to `into`, under run index `index`, with the run's prompt. */
export function addRunTally(into: DriftTally, index: number, run: RunTally, initialPrompt: string): void {
  into.runs[index] = run;
  into.rows += run.rows;
  into.rowsWithDrift += run.rowsWithDrift;
  for (const reason of Object.keys(run.nullReasons) as NullReason[]) into.nullReasons[reason] += run.nullReasons[reason] ?? 0;
  for (const [model, rows] of Object.entries(run.missing)) {
    const target = (into.missing[model] ??= {});
    target[initialPrompt] = (target[initialPrompt] ?? 0) + rows;
  }
  mergeMismatched(into.mismatched, run.mismatched);
}

function mergeMismatched(into: DriftTally["mismatched"], from: DriftTally["mismatched"]): void {
  for (const [model, m] of Object.entries(from)) {
    const target = (into[model] ??= { dimensions: [], reference: m.reference, rows: 0 });
    target.rows += m.rows;
    for (const d of m.dimensions) if (!target.dimensions.includes(d)) target.dimensions.push(d);
  }
}

export function mergeTally(into: DriftTally, from: DriftTally): void {
  into.rows += from.rows;
  into.rowsWithDrift += from.rowsWithDrift;
  for (const [reason, count] of Object.entries(from.nullReasons)) into.nullReasons[reason as NullReason] += count;
  for (const [model, prompts] of Object.entries(from.missing)) {
    const target = (into.missing[model] ??= {});
    for (const [prompt, rows] of Object.entries(prompts)) target[prompt] = (target[prompt] ?? 0) + rows;
  }
  mergeMismatched(into.mismatched, from.mismatched);
  for (const [index, run] of Object.entries(from.runs)) mergeRunTally((into.runs[Number(index)] ??= emptyRunTally()), run);
}

/** Adds `from` to `into`: a run read in parts (storage order, by several readers) sums up. */
export function mergeRunTally(into: RunTally, from: RunTally): void {
  into.rows += from.rows;
  into.rowsWithDrift += from.rowsWithDrift;
  for (const reason of Object.keys(from.nullReasons) as NullReason[]) into.nullReasons[reason] = (into.nullReasons[reason] ?? 0) + (from.nullReasons[reason] ?? 0);
  for (const [model, rows] of Object.entries(from.missing)) into.missing[model] = (into.missing[model] ?? 0) + rows;
  mergeMismatched(into.mismatched, from.mismatched);
}

/** One line per model lacking references: how many prompts and rows, and what to do. */
export function missingReferenceMessages(tally: DriftTally): string[] {
  return Object.keys(tally.missing)
    .sort()
    .map((model) => {
      const prompts = Object.values(tally.missing[model]!);
      const rows = prompts.reduce((a, b) => a + b, 0);
      const n = prompts.length;
      return `no reference vector for embedding model ${model} (${n} initial prompt${n === 1 ? "" : "s"}, ${rows} rows with NULL drift): embed the prompts with that model and pass them with --prompt-vectors FILE (.json/.csv/.parquet with initial_prompt, embedding_model, vector)`;
    });
}

export function dimensionMismatchMessages(tally: DriftTally): string[] {
  return Object.keys(tally.mismatched)
    .sort()
    .map((model) => {
      const { dimensions, reference, rows } = tally.mismatched[model]!;
      const dims = [...dimensions].sort((a, b) => a - b).join(", ");
      return `embedding model ${model} has ${rows} vectors of dimension ${dims} but its reference has ${reference}; those rows have NULL drift (check the database, or the vectors given with --prompt-vectors)`;
    });
}
