import type { TopLevelSpec } from "vega-lite";
import { FONT_FAMILY } from "./fonts.js";
import type { DensityPoint, HistogramBin, LinePoint } from "./plotData.js";

/** Sizes in pixels, the name of the grouping, and the series, for titles and legends. */
export interface SpecLayout {
  /** Width of one panel (one embedding model). */
  width: number;
  /** Height of one panel; a ridgeline's groups share it. */
  height: number;
  /** The --by columns, as the legend's title. */
  byTitle: string;
  /** The series' short labels (the `label` field of the points), in legend order. */
  labels: readonly string[];
  /** Their colours, in the same order (see `seriesColours`). */
  colours: readonly string[];
  /** The metric (from the frame's metadata), for the axis titles; undefined if the frame does not say. */
  metric?: string;
  /** The values drift can take, where the bands are cut; undefined when unknown. */
  range?: readonly [number, number];
}

/** A point of a plot with its series' short label (what the legend shows) next to the full one (`group`, in tooltips). */
export type Labelled<T> = T & { label: string };

/** The most groups a plot draws with a colour each: the colours of Vega's largest categorical scheme, tableau20. */
export const PALETTE_SIZE = 20;
/** The colour of "other", the pooled groups: a dark grey that neither scheme has. */
export const OTHER_COLOUR = "#333333";

/**
 * One colour per series, in legend order, none repeated: tableau10 for up
 * to 10 groups, tableau20 (its colours and a lighter tint of each) for up
 * to 20, then the grey of "other" if groups were pooled. `scheme` is
 * Vega's (vega.scheme), passed in so that building a spec loads nothing.
 */
export function seriesColours(groups: number, pooled: boolean, scheme: (name: string) => readonly string[]): string[] {
  return [...scheme(groups <= 10 ? "tableau10" : "tableau20").slice(0, groups), ...(pooled ? [OTHER_COLOUR] : [])];
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const MODEL_FACET = { field: "embedding_model", type: "nominal", title: "embedding model" } as const;

/** The series' colours, fixed (see `seriesColours`). */
function colorScale(layout: SpecLayout) {
  return { domain: [...layout.labels], range: [...layout.colours] };
}

function driftTitle(prefix: string, layout: SpecLayout): string {
  return layout.metric === undefined ? prefix : `${prefix} (${layout.metric})`;
}

/** Mean drift against sequence_number, one line per group with its 95% band, a panel per embedding model. */
export function linesSpec(points: readonly Labelled<LinePoint>[], layout: SpecLayout): TopLevelSpec {
  const x = { field: "sequence_number", type: "quantitative", title: "sequence number", axis: { tickMinStep: 1 } } as const;
  const yTitle = driftTitle("mean semantic drift", layout);
  // Not from 0: the bands are cut at the metric's range, so the axis stays in it, and the lines get the height.
  const yScale = { zero: false } as const;
  // The legend shows the lines (the bands would make it pale).
  const color = {
    field: "label",
    type: "nominal",
    title: layout.byTitle,
    scale: colorScale(layout),
    legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolOpacity: 1, labelLimit: 0 },
  } as const;
  const band = layout.range === undefined ? "band: 95% t-interval of the mean" : `band: 95% t-interval of the mean, cut at the metric's range [${layout.range.join(", ")}]`;
  return {
    $schema: SCHEMA,
    title: { text: `Semantic drift by ${layout.byTitle}`, subtitle: `mean over runs at each step; ${band}` },
    data: { values: points as unknown as Record<string, unknown>[] },
    facet: { column: MODEL_FACET },
    spec: {
      width: layout.width,
      height: layout.height,
      layer: [
        // A step with one run has no interval: its band is left out, the line goes on.
        // Many overlapping bands would wash the panel out: fainter the more there are.
        { mark: { type: "area", opacity: Math.min(0.2, 1.6 / layout.labels.length) }, encoding: { x, y: { field: "ci_low", type: "quantitative", title: yTitle, scale: yScale }, y2: { field: "ci_high" }, color } },
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x,
            y: { field: "mean", type: "quantitative", title: yTitle, scale: yScale },
            color,
            tooltip: [
              { field: "group", type: "nominal", title: layout.byTitle },
              { field: "embedding_model", type: "nominal", title: "embedding model" },
              { field: "sequence_number", type: "quantitative", title: "sequence number" },
              { field: "runs", type: "quantitative" },
              { field: "mean", type: "quantitative", format: ".4f" },
              { field: "ci_low", type: "quantitative", format: ".4f", title: "95% low" },
              { field: "ci_high", type: "quantitative", format: ".4f", title: "95% high" },
            ],
          },
        },
      ],
    },
    config: { font: FONT_FAMILY },
  };
}

/** A ridgeline per group (density of drift over all steps), rows overlapping a little, a column per embedding model. */
export function ridgeSpec(points: readonly Labelled<DensityPoint>[], layout: SpecLayout): TopLevelSpec {
  const row = Math.max(16, Math.round(layout.height / Math.max(1, layout.labels.length)));
  return {
    $schema: SCHEMA,
    title: { text: `Distribution of semantic drift by ${layout.byTitle}`, subtitle: "kernel density over all steps of all runs; each ridge scaled to its own peak" },
    data: { values: points as unknown as Record<string, unknown>[] },
    facet: {
      row: { field: "label", type: "nominal", title: layout.byTitle, sort: [...layout.labels], header: { labelAngle: 0, labelAlign: "left", labelOrient: "left", labelLimit: 0 } },
      column: MODEL_FACET,
    },
    spacing: { row: 0, column: 16 },
    spec: {
      width: layout.width,
      height: row,
      mark: { type: "area", interpolate: "monotone", fillOpacity: 0.75, stroke: "white", strokeWidth: 1 },
      encoding: {
        x: { field: "drift", type: "quantitative", title: driftTitle("semantic drift", layout), axis: { grid: false } },
        // Each ridge rises to 1.6 rows: into the row above, as ridgelines do.
        y: { field: "density", type: "quantitative", scale: { range: [row, -0.6 * row] }, axis: null },
        fill: { field: "label", type: "nominal", title: layout.byTitle, scale: colorScale(layout), legend: null },
        tooltip: [
          { field: "group", type: "nominal", title: layout.byTitle },
          { field: "embedding_model", type: "nominal", title: "embedding model" },
        ],
      },
    },
    // A tight group's peak would flatten a wide group's ridge on a shared scale: the shapes are what a ridgeline compares.
    resolve: { scale: { y: "independent" } },
    config: { font: FONT_FAMILY, view: { stroke: null } },
  };
}

/** The final drift of each run, binned, stacked by group, a panel per embedding model. */
export function histSpec(bins: readonly Labelled<HistogramBin>[], layout: SpecLayout): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: { text: `Final semantic drift per run, by ${layout.byTitle}`, subtitle: "drift at each run's last step with drift" },
    data: { values: bins as unknown as Record<string, unknown>[] },
    facet: { column: MODEL_FACET },
    spec: {
      width: layout.width,
      height: layout.height,
      mark: { type: "bar", stroke: "white", strokeWidth: 0.5 },
      encoding: {
        x: { field: "bin_start", type: "quantitative", bin: "binned", title: driftTitle("final semantic drift", layout) },
        x2: { field: "bin_end" },
        y: { aggregate: "sum", field: "runs", type: "quantitative", title: "runs", stack: "zero" },
        color: { field: "label", type: "nominal", title: layout.byTitle, scale: colorScale(layout), legend: { labelLimit: 0 } },
        tooltip: [
          { field: "group", type: "nominal", title: layout.byTitle },
          { field: "bin_start", type: "quantitative", format: ".4f", title: "from" },
          { field: "bin_end", type: "quantitative", format: ".4f", title: "to" },
          { field: "runs", type: "quantitative", aggregate: "sum", title: "runs" },
        ],
      },
    },
    config: { font: FONT_FAMILY },
  };
}
