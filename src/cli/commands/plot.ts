import { Command, InvalidArgumentError, Option } from "../commander.js";
import type { CliIO } from "../cliIO.js";
import { EXIT_CODES } from "../exitCodes.js";
import { printWarning } from "../messages.js";

const KINDS = ["lines", "ridge", "hist"] as const;
type Kind = (typeof KINDS)[number];

interface PlotFlags {
  in?: string[];
  db?: string;
  out?: string;
  kind: Kind;
  by: string;
  spec?: string;
  width: number;
  height: number;
  scale: number;
  top: number;
  overwrite?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

const EXAMPLES = `
Examples:
  $ panic-drift plot --db experiment.sqlite --out drift.svg
      mean drift per step, a line and 95% band per network, a panel per embedding model
  $ panic-drift plot --in drift/ --out all-experiments.png
      a dataset directory (compute --out drift/)
  $ panic-drift plot --in runs.drift.parquet --out drift.png --scale 2
  $ panic-drift plot --db runs.sqlite --kind ridge --by initial_prompt --out prompts.svg
      the distribution of drift per initial prompt, as ridgelines
  $ panic-drift plot --db runs.sqlite --kind hist --out final.png --width 300 --height 200
      the final drift of each run, stacked by network
  $ panic-drift plot --db runs.sqlite --out drift.svg --spec drift.vl.json
      also the Vega-Lite spec (data included), to restyle in the Vega editor
  $ panic-drift plot --db runs.sqlite --by initial_prompt --top 8 --out top8.png
      the 8 prompts with the most runs, the others pooled as one "other" series

Bands: mean ± t(0.975, n−1)·sd/√n over the n runs with drift at that step
(none where n = 1), cut at the metric's range [0, 2]. Each group has a colour
of its own (tableau20); with more than --top groups, the --top with the most
runs are drawn and the rest pooled as "other (N groups)", in grey. Labels
longer than 32 columns are cut at a word boundary; the SVG keeps the full text
as a tooltip (<title>). A PNG's text needs fonts that have its characters
(emoji are bundled; CJK comes from the system's fonts): a warning names the
labels that would show boxes. The data is aggregated by DuckDB first; Vega
renders it.
${EXIT_CODES}`;

/** `panic-drift plot`: drift pictures (SVG or PNG) from a frame, through Vega-Lite. */
export function plotCommand(io: CliIO): Command {
  return new Command("plot")
    .description("plot a drift frame to SVG or PNG: mean drift per step with 95% bands (lines), its distribution (ridge), or final drift per run (hist)")
    .option("--in <path>", "drift frame (parquet) written by compute, or a dataset directory (compute --out DIR/); repeatable", collectPaths)
    .option("--db <file>", "read the frame compute --db writes for this database: <db dir>/<db stem>.drift.parquet (default: $DATABASE_PATH)")
    .option("--out <file>", "the picture: FILE.svg or FILE.png")
    .addOption(new Option("--kind <kind>", "lines: mean drift per step; ridge: drift density per group; hist: final drift per run").choices(KINDS).default("lines"))
    .option("--by <columns>", "one series per value of these frame columns (comma-separated)", "network")
    .option("--spec <file>", "also write the Vega-Lite spec (JSON, data included) here")
    .option("--width <pixels>", "width of one panel (one embedding model)", parsePixels, 360)
    .option("--height <pixels>", "height of one panel (a ridgeline's groups share it)", parsePixels, 240)
    .option("--scale <factor>", "PNG: pixels per SVG pixel (2 for sharp pictures on high-density screens)", parseScale, 1)
    .option("--top <n>", "at most n groups (1 to 20, one colour each): with more, the n with the most runs, the rest pooled as \"other\"", parseTop, 20)
    .option("--overwrite", "replace the output even if it holds a file panic-drift did not write (never an input)")
    .option("-q, --quiet", "no summary line on stderr")
    .option("--debug", "show stack traces on errors")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: PlotFlags) => {
      const { plotDrift } = await import("../../plot/plot.js");
      const db = flags.in === undefined ? (flags.db ?? nonEmpty(io.env.DATABASE_PATH)) : flags.db;
      const result = await plotDrift({
        ...(flags.in === undefined ? {} : { frame: flags.in }),
        ...(db === undefined ? {} : { db }),
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.spec === undefined ? {} : { spec: flags.spec }),
        kind: flags.kind,
        by: flags.by,
        width: flags.width,
        height: flags.height,
        scale: flags.scale,
        top: flags.top,
        overwrite: flags.overwrite === true,
      });
      // Warnings are printed with --quiet too.
      for (const warning of result.warnings) printWarning(io, warning);
      if (flags.quiet !== true) {
        const written = [result.output, result.spec].filter((f) => f !== undefined).join(", ");
        const drawn = result.groups.length - (result.pooled > 0 ? 1 : 0);
        const groups =
          result.pooled > 0
            ? `${drawn + result.pooled} groups (the ${drawn} with the most runs, ${result.pooled} pooled as other)`
            : `${drawn} group${drawn === 1 ? "" : "s"}`;
        io.stderr.write(
          `panic-drift: ${result.kind} plot of ${groups} × ${result.embeddingModels.length} embedding model${result.embeddingModels.length === 1 ? "" : "s"} from ${result.frame} → ${written}\n`,
        );
      }
    });
}

function parsePixels(value: string): number {
  const pixels = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || pixels < 10 || pixels > 10_000) throw new InvalidArgumentError("give whole pixels, 10 to 10000");
  return pixels;
}

function parseScale(value: string): number {
  const scale = Number(value);
  if (value.trim() === "" || !Number.isFinite(scale) || scale <= 0 || scale > 16) throw new InvalidArgumentError("give a factor above 0, up to 16");
  return scale;
}

function parseTop(value: string): number {
  const top = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || top < 1 || top > 20) throw new InvalidArgumentError("give a whole number of groups, 1 to 20 (the palette's colours)");
  return top;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function collectPaths(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
