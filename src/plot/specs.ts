import type { TopLevelSpec } from "vega-lite";
import type { DensityPoint, HistogramBin, LinePoint } from "./plotData.js";

/** Sizes in pixels and the name of the grouping, for titles and legends. */
export interface SpecLayout {
  /** Width of one panel (one embedding model). */
  width: number;
  /** Height of one panel; a ridgeline's groups share it. */
  height: number;
  /** The --by columns, as the legend's title. */
  byTitle: string;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** Fonts a viewer and resvg are likely to have, in order; any sans-serif will do. */
const FONT = "Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif";
const MODEL_FACET = { field: "embedding_model", type: "nominal", title: "embedding model" } as const;

/** Mean drift against sequence_number, one line per group with its 95% band, a panel per embedding model. */
export function linesSpec(points: readonly LinePoint[], layout: SpecLayout): TopLevelSpec {
  const x = { field: "sequence_number", type: "quantitative", title: "sequence number", axis: { tickMinStep: 1 } } as const;
  const yTitle = "mean semantic drift";
  // The legend shows the lines (the bands would make it pale).
  const color = { field: "group", type: "nominal", title: layout.byTitle, legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolOpacity: 1 } } as const;
  return {
    $schema: SCHEMA,
    title: { text: `Semantic drift by ${layout.byTitle}`, subtitle: "mean over runs at each step; band: 95% t-interval of the mean" },
    data: { values: points as unknown as Record<string, unknown>[] },
    facet: { column: MODEL_FACET },
    spec: {
      width: layout.width,
      height: layout.height,
      layer: [
        // A step with one run has no interval: its band is left out, the line goes on.
        { mark: { type: "area", opacity: 0.2 }, encoding: { x, y: { field: "ci_low", type: "quantitative", title: yTitle }, y2: { field: "ci_high" }, color } },
        { mark: { type: "line", strokeWidth: 2 }, encoding: { x, y: { field: "mean", type: "quantitative", title: yTitle }, color } },
      ],
    },
    config: { font: FONT },
  };
}

/** A ridgeline per group (density of drift over all steps), rows overlapping a little, a column per embedding model. */
export function ridgeSpec(points: readonly DensityPoint[], groups: number, layout: SpecLayout): TopLevelSpec {
  const row = Math.max(16, Math.round(layout.height / Math.max(1, groups)));
  return {
    $schema: SCHEMA,
    title: { text: `Distribution of semantic drift by ${layout.byTitle}`, subtitle: "kernel density over all steps of all runs; each ridge scaled to its own peak" },
    data: { values: points as unknown as Record<string, unknown>[] },
    facet: {
      row: { field: "group", type: "nominal", title: layout.byTitle, header: { labelAngle: 0, labelAlign: "left", labelOrient: "left" } },
      column: MODEL_FACET,
    },
    spacing: { row: 0, column: 16 },
    spec: {
      width: layout.width,
      height: row,
      mark: { type: "area", interpolate: "monotone", fillOpacity: 0.75, stroke: "white", strokeWidth: 1 },
      encoding: {
        x: { field: "drift", type: "quantitative", title: "semantic drift", axis: { grid: false } },
        // Each ridge rises to 1.6 rows: into the row above, as ridgelines do.
        y: { field: "density", type: "quantitative", scale: { range: [row, -0.6 * row] }, axis: null },
        fill: { field: "group", type: "nominal", title: layout.byTitle, legend: null },
      },
    },
    // A tight group's peak would flatten a wide group's ridge on a shared scale: the shapes are what a ridgeline compares.
    resolve: { scale: { y: "independent" } },
    config: { font: FONT, view: { stroke: null } },
  };
}

/** The final drift of each run, binned, stacked by group, a panel per embedding model. */
export function histSpec(bins: readonly HistogramBin[], layout: SpecLayout): TopLevelSpec {
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
        x: { field: "bin_start", type: "quantitative", bin: "binned", title: "final semantic drift" },
        x2: { field: "bin_end" },
        y: { aggregate: "sum", field: "runs", type: "quantitative", title: "runs", stack: "zero" },
        color: { field: "group", type: "nominal", title: layout.byTitle },
      },
    },
    config: { font: FONT },
  };
}
