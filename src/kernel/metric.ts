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

/**
 * The values each metric can take, [low, high]: both compare unit vectors
 * (euclid is √(2 − 2·cos), cosine 1 − cos, and cos lies in [−1, 1]).
 * Plots keep their axes and bands inside it.
 */
export const METRIC_RANGE: Readonly<Record<Metric, readonly [number, number]>> = {
  euclid: [0, 2],
  cosine: [0, 2],
};
