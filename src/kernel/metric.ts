/**
 * The two distances panic-drift offers. Both lie in [0, 2].
 * - euclid: upstream's ‖v/|v| − r/|r|‖₂ (= √(2 − 2·cos), the default)
 * - cosine: 1 − cos(v, r)
 */
export const METRICS = ["euclid", "cosine"] as const;
export type Metric = (typeof METRICS)[number];

export function isMetric(name: string): name is Metric {
  return (METRICS as readonly string[]).includes(name);
}
