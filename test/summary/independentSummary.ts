/**
 * An independent recomputation of `summary` in plain TypeScript, from the
 * frame's rows (read with test/support/readParquet.ts): no SQL, no code
 * shared with src/summary/, and t quantiles as literal numbers (scipy's
 * t.ppf(0.975, df)).
 */
export interface FrameRow {
  id: string;
  run_id: string;
  embedding_model: string;
  sequence_number: number;
  semantic_drift: number | null;
  [column: string]: string | number | null;
}

export interface RunStats {
  key: Record<string, string | number | null>;
  steps: number;
  final: number | null;
  max: number | null;
  mean: number | null;
  auc: number | null;
  first_over: number | null;
}

/** scipy.stats.t.ppf(0.975, df), df = 1 … 12. */
export const T975: Readonly<Record<number, number>> = {
  1: 12.706204736174694,
  2: 4.302652729749462,
  3: 3.1824463052837078,
  4: 2.7764451051977934,
  5: 2.5705818356363146,
  6: 2.4469118511449786,
  7: 2.364624251592784,
  8: 2.306004135204166,
  9: 2.262157162798205,
  10: 2.228138851986274,
  11: 2.200985160091639,
  12: 2.1788128296672284,
};

export const STATS = ["final", "max", "mean", "auc", "first_over"] as const;

/** Per run (run_id, embedding_model and the `by` columns), rows in (sequence_number, id) order. */
export function perRun(rows: readonly FrameRow[], by: readonly string[], threshold: number): RunStats[] {
  const keyColumns = [...new Set(["run_id", "embedding_model", ...by])];
  const runs = new Map<string, FrameRow[]>();
  for (const row of rows) {
    const key = JSON.stringify(keyColumns.map((c) => row[c]));
    runs.set(key, [...(runs.get(key) ?? []), row]);
  }
  return [...runs.values()].map((run) => {
    run.sort((a, b) => a.sequence_number - b.sequence_number || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const drifted = run.filter((r) => r.semantic_drift !== null) as (FrameRow & { semantic_drift: number })[];
    let auc = 0;
    for (let i = 1; i < drifted.length; i++) {
      auc += ((drifted[i]!.sequence_number - drifted[i - 1]!.sequence_number) * (drifted[i]!.semantic_drift + drifted[i - 1]!.semantic_drift)) / 2;
    }
    const values = drifted.map((r) => r.semantic_drift);
    return {
      key: Object.fromEntries(keyColumns.map((c) => [c, run[0]![c]!])),
      steps: run.length,
      final: values.length > 0 ? values[values.length - 1]! : null,
      max: values.length > 0 ? Math.max(...values) : null,
      mean: values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : null,
      auc: values.length > 0 ? auc : null,
      first_over: drifted.find((r) => r.semantic_drift > threshold)?.sequence_number ?? null,
    };
  });
}

export interface GroupStats {
  key: Record<string, string | number | null>;
  runs: number;
  steps_min: number;
  steps_max: number;
  [stat: string]: unknown;
}

/** Mean and 95% t-interval (two-pass sd) of each statistic per `by` group. */
export function perGroup(runs: readonly RunStats[], by: readonly string[]): GroupStats[] {
  const groups = new Map<string, RunStats[]>();
  for (const run of runs) {
    const key = JSON.stringify(by.map((c) => run.key[c]));
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((members) => {
    const group: GroupStats = {
      key: Object.fromEntries(by.map((c) => [c, members[0]!.key[c]!])),
      runs: members.length,
      steps_min: Math.min(...members.map((m) => m.steps)),
      steps_max: Math.max(...members.map((m) => m.steps)),
    };
    for (const stat of STATS) {
      const values = members.map((m) => m[stat]).filter((v): v is number => v !== null);
      const n = values.length;
      const mean = n > 0 ? values.reduce((s, v) => s + v, 0) / n : null;
      let low: number | null = null;
      let high: number | null = null;
      if (n > 1) {
        const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean!) ** 2, 0) / (n - 1));
        const t = T975[n - 1];
        if (t === undefined) throw new Error(`no literal t quantile for df ${n - 1}`);
        low = mean! - (t * sd) / Math.sqrt(n);
        high = mean! + (t * sd) / Math.sqrt(n);
      }
      group[`${stat}_mean`] = mean;
      group[`${stat}_ci_low`] = low;
      group[`${stat}_ci_high`] = high;
    }
    return group;
  });
}
