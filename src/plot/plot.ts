import { writeFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { PanicDriftError, usageError } from "../common/errors.js";
import { AtomicOutput } from "../sink/atomicOutput.js";
import { openDriftFrame } from "../summary/driftFrame.js";
import { frameInputs, framePath, type FrameSource } from "../summary/framePath.js";
import { guardOutput, type OutputPolicy } from "../sink/outputGuard.js";
import { markPng, markSpec, markSvg } from "../sink/outputKind.js";
import { groupColumns } from "../summary/groupColumns.js";
import { readParquetFooter } from "../sink/parquetFooter.js";
import { isMetric, METRIC_RANGE, METRICS, type Metric } from "../kernel/metric.js";
import { shortTexts } from "../common/shortText.js";
import type { UndrawableText } from "./fonts.js";
import { densityData, driftedRows, finalDriftHistogram, lineData, plotSeries } from "./plotData.js";
import { histSpec, linesSpec, ridgeSpec, PALETTE_SIZE, seriesColours, type SpecLayout } from "./specs.js";

export const PLOT_KINDS = ["lines", "ridge", "hist"] as const;
export type PlotKind = (typeof PLOT_KINDS)[number];
export const DEFAULT_PLOT_BY = ["network"] as const;
export const DEFAULT_PLOT_WIDTH = 360;
export const DEFAULT_PLOT_HEIGHT = 240;
/** Legend labels and ridge headers are cut (at a word boundary) to this many columns; CJK and emoji count 2. */
export const LABEL_WIDTH = 32;

export interface PlotOptions extends FrameSource {
  /** The picture: .svg or .png. At least one of `out` and `spec`. */
  out?: string;
  /** The Vega-Lite spec, data included, as JSON. */
  spec?: string;
  /** lines (default): mean drift per step with 95% bands; ridge: drift density per group; hist: final drift per run. */
  kind?: PlotKind;
  /** Columns of the frame whose values make the groups (series). Default network. */
  by?: string | readonly string[];
  /** Size of one panel (one embedding model) in pixels. Default 360 × 240. */
  width?: number;
  height?: number;
  /** PNG only: device pixels per SVG pixel. Default 1. */
  scale?: number;
  /** At most this many groups (1 to 20, the palette's colours; default 20): with more, the ones with the most runs, the rest pooled as "other". */
  top?: number;
  /** Replace `out`/`spec` even if they hold files panic-drift did not write (never an input). */
  overwrite?: boolean;
}

export interface PlotResult {
  frame: string;
  kind: PlotKind;
  /** The series, in legend order, in full: the groups drawn, then "other (N groups)" if some were pooled. */
  groups: string[];
  /** How many groups were pooled as "other" (0: every group has its own series). */
  pooled: number;
  embeddingModels: string[];
  /** The metric the frame says it was computed with, if it says. */
  metric?: Metric;
  /** Things the picture cannot show, one line each (the CLI prints them as warnings). */
  warnings: string[];
  /** The files written (absolute). */
  output?: string;
  spec?: string;
}

/**
 * Aggregates the frame in DuckDB, builds a Vega-Lite spec over the result,
 * renders it headlessly to SVG (and PNG), and writes the files atomically.
 */
export async function plotDrift(options: PlotOptions): Promise<PlotResult> {
  const kind = options.kind ?? "lines";
  if (!(PLOT_KINDS as readonly string[]).includes(kind)) throw usageError(`--kind ${kind}: choose one of ${PLOT_KINDS.join(", ")}`);
  const by = groupColumns(options.by ?? DEFAULT_PLOT_BY);
  const width = options.width ?? DEFAULT_PLOT_WIDTH;
  const height = options.height ?? DEFAULT_PLOT_HEIGHT;
  const scale = options.scale ?? 1;
  const top = options.top ?? PALETTE_SIZE;
  if (!Number.isSafeInteger(top) || top < 1 || top > PALETTE_SIZE) throw usageError(`--top ${top}: give a whole number of groups, 1 to ${PALETTE_SIZE} (the palette's colours)`);
  for (const [name, value] of [["--width", width], ["--height", height]] as const) {
    if (!Number.isSafeInteger(value) || value < 10 || value > 10_000) throw usageError(`${name} ${value}: give whole pixels, 10 to 10000`);
  }
  if (!Number.isFinite(scale) || scale <= 0 || scale > 16) throw usageError(`--scale ${scale}: give a factor above 0, up to 16`);
  const out = options.out === undefined ? undefined : resolve(options.out);
  const specPath = options.spec === undefined ? undefined : resolve(options.spec);
  if (out === undefined && specPath === undefined) throw usageError("missing --out FILE.svg or FILE.png (or --spec FILE.json for the Vega-Lite spec alone)");
  const picture = out === undefined ? undefined : pictureFormat(out);
  if (out !== undefined && picture === undefined) throw usageError(`--out ${options.out}: the picture's name must end in .svg or .png`);
  if (out !== undefined && out === specPath) throw usageError(`--out and --spec are the same file ${out}: give two names`);
  const source = framePath(options);
  const policy = (label: string): OutputPolicy => ({ kind: "plot", label, remedy: `choose another ${label}`, inputs: frameInputs(source), overwrite: options.overwrite === true });
  // Before anything is read: outputs aimed at an input, or at files panic-drift did not write.
  if (out !== undefined) guardOutput(out, policy("--out"), { place: false });
  if (specPath !== undefined) guardOutput(specPath, policy("--spec"), { place: false });

  const frame = await openDriftFrame(source);
  const outputs: AtomicOutput[] = [];
  try {
    // Before the work: a missing or unwritable directory fails at once.
    const pictureOutput = out === undefined ? undefined : AtomicOutput.begin(out, policy("--out"));
    if (pictureOutput !== undefined) outputs.push(pictureOutput);
    const specOutput = specPath === undefined ? undefined : AtomicOutput.begin(specPath, policy("--spec"));
    if (specOutput !== undefined) outputs.push(specOutput);

    const { rows, drifted, min, max } = await driftedRows(frame.connection);
    if (drifted === 0) {
      throw new PanicDriftError("PLOT_NO_DATA", `nothing to plot: ${frame.path} has no row with a semantic_drift value (${rows} rows, all NULL): see compute's NULL reasons (panic-drift compute --json)`);
    }
    const metric = frameMetric(frame.path);
    const range = metric !== undefined ? METRIC_RANGE[metric] : anyMetricRange(min!, max!);
    const series = await plotSeries(frame.connection, by, top);
    const short = shortTexts(series.labels, LABEL_WIDTH);
    const labelled = <T extends { group: string }>(points: T[]) => points.map((p) => ({ ...p, label: short.get(p.group)! }));
    const { scheme } = await import("vega");
    const layout: SpecLayout = {
      width,
      height,
      byTitle: by.join(", "),
      labels: series.labels.map((l) => short.get(l)!),
      colours: seriesColours(series.labels.length - (series.other === undefined ? 0 : 1), series.other !== undefined, scheme as (name: string) => string[]),
      ...(metric === undefined ? {} : { metric }),
      ...(range === undefined ? {} : { range }),
    };
    let spec: TopLevelSpec;
    let drawn: { group: string; embedding_model: string }[];
    if (kind === "lines") {
      const points = await lineData(frame.connection, series.sql, range);
      spec = linesSpec(labelled(points), layout);
      drawn = points;
    } else if (kind === "ridge") {
      const points = await densityData(frame.connection, series.sql);
      spec = ridgeSpec(labelled(points), layout);
      drawn = points;
    } else {
      const bins = await finalDriftHistogram(frame.connection, by, series.sql);
      spec = histSpec(labelled(bins), layout);
      drawn = bins;
    }
    const embeddingModels = [...new Set(drawn.map((p) => p.embedding_model))].sort();

    const result: PlotResult = { frame: frame.path, kind, groups: series.labels, pooled: series.other === undefined ? 0 : series.groups - top, embeddingModels, warnings: [] };
    if (metric !== undefined) result.metric = metric;
    if (pictureOutput !== undefined) {
      const { addTitles, renderSvg, svgToPng } = await import("./render.js");
      const svg = await renderSvg(spec);
      if (picture === "png") {
        const { forResvg, undrawableTexts } = await import("./fonts.js");
        const forPng = forResvg(svg);
        const undrawable = undrawableTexts(forPng);
        if (undrawable.length > 0) result.warnings.push(undrawableWarning(pictureOutput.target, undrawable));
        writeOutput(pictureOutput, markPng(await svgToPng(forPng, scale)));
      } else {
        // The full text of each shortened label, as a tooltip; resvg would draw it, so not in the PNG.
        writeOutput(pictureOutput, markSvg(addTitles(svg, new Map(series.labels.map((l) => [short.get(l)!, l])))));
      }
      result.output = pictureOutput.target;
    }
    if (specOutput !== undefined) {
      writeOutput(specOutput, `${JSON.stringify(markSpec(spec), null, 2)}\n`);
      result.spec = specOutput.target;
    }
    return result;
  } catch (error) {
    for (const output of outputs) output.abort();
    throw error;
  } finally {
    frame.close();
  }
}

/** The metric the frame's metadata names (compute writes `panic_drift.metric`), if any. */
function frameMetric(path: string): Metric | undefined {
  const named = readParquetFooter(path)?.keyValue.get("panic_drift.metric");
  return named !== undefined && isMetric(named) ? named : undefined;
}

/** A frame that does not name its metric: the range every metric shares, if its drift lies inside it. */
function anyMetricRange(min: number, max: number): readonly [number, number] | undefined {
  const low = Math.min(...METRICS.map((m) => METRIC_RANGE[m][0]));
  const high = Math.max(...METRICS.map((m) => METRIC_RANGE[m][1]));
  return min >= low && max <= high ? [low, high] : undefined;
}

/** One line: which texts of the PNG show boxes, for which characters, and what to do. */
function undrawableWarning(target: string, undrawable: readonly UndrawableText[]): string {
  const listed = (items: readonly string[], most: number, join: string) =>
    items.slice(0, most).join(join) + (items.length > most ? `${join}… (${items.length - most} more)` : "");
  const texts = [...new Set(undrawable.map((u) => u.text))];
  const characters = [...new Set(undrawable.flatMap((u) => u.missing))];
  return (
    `${target}: ${texts.length === 1 ? "1 label" : `${texts.length} labels`} cannot be drawn whole, no font here has ${listed(characters, 8, " ")}: ` +
    `${listed(texts.map((t) => `"${t}"`), 3, ", ")} show${texts.length === 1 ? "s" : ""} boxes there; ` +
    `install a font that has them (resvg, which draws the PNG, uses the system's fonts; for CJK e.g. Noto Sans CJK), or write SVG, whose viewer picks the fonts`
  );
}

function pictureFormat(path: string): "svg" | "png" | undefined {
  const extension = extname(path).slice(1).toLowerCase();
  return extension === "svg" || extension === "png" ? extension : undefined;
}

function writeOutput(output: AtomicOutput, content: string | Buffer): void {
  try {
    writeFileSync(output.temporary, content);
  } catch (error) {
    output.abort();
    const message = (error as Error).message.split("\n")[0];
    throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${output.target}: ${message}: free space on that disk, or choose another --out`, { cause: error });
  }
  output.commit();
}
