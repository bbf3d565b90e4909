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
}

export function emptyTally(): DriftTally {
  return { rows: 0, rowsWithDrift: 0, nullReasons: emptyReasonCounts(), missing: {}, mismatched: {} };
}

export function mergeTally(into: DriftTally, from: DriftTally): void {
  into.rows += from.rows;
  into.rowsWithDrift += from.rowsWithDrift;
  for (const [reason, count] of Object.entries(from.nullReasons)) into.nullReasons[reason as NullReason] += count;
  for (const [model, prompts] of Object.entries(from.missing)) {
    const target = (into.missing[model] ??= {});
    for (const [prompt, rows] of Object.entries(prompts)) target[prompt] = (target[prompt] ?? 0) + rows;
  }
  for (const [model, m] of Object.entries(from.mismatched)) {
    const target = (into.mismatched[model] ??= { dimensions: [], reference: m.reference, rows: 0 });
    target.rows += m.rows;
    for (const d of m.dimensions) if (!target.dimensions.includes(d)) target.dimensions.push(d);
  }
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
