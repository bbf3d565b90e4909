import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePanicDb } from "../support/makePanicDb.js";
import { query } from "../support/readParquet.js";
import { runCli } from "../support/runCli.js";
import { plot } from "../support/plot/runPlot.js";
import { T975 } from "../summary/independentSummary.js";
import { distinctColours, readPng } from "../support/plot/pngPixels.js";
import { xmlProblem } from "../support/plot/xmlCheck.js";
import { shortTexts } from "../../src/common/shortText.js";

/**
 * `panic-drift plot`: the pictures are well-formed SVG (and PNG of the
 * right size, not blank), with one series per group, axis titles and no
 * NaN; the data in the spec is what the frame says; every option.
 */
let dir: string;
let db: string;
let frame: string;
/** (network, embedding_model, sequence_number, run_id, semantic_drift) of the frame's rows with drift. */
let drifted: { network: string; embedding_model: string; sequence_number: number; run_id: string; semantic_drift: number }[];
let networks: string[];
let prompts: string[];
/** The default lines plot of `db`, as SVG (the first test makes it). */
let defaultSvg = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-plot-"));
  db = join(dir, "runs.sqlite");
  makePanicDb(db, { runs: 6, steps: 10, unfinishedRuns: 1 });
  const compute = await runCli(["compute", "--db", db, "--quiet"]);
  expect(compute.code, compute.stderr).toBe(0);
  frame = join(dir, "runs.drift.parquet");
  drifted = (await query("SELECT network, embedding_model, sequence_number, run_id, semantic_drift FROM read_parquet($1) WHERE semantic_drift IS NOT NULL", [frame])).map(
    (r) => ({ ...(r as (typeof drifted)[number]), sequence_number: Number(r.sequence_number) }),
  );
  networks = [...new Set(drifted.map((r) => r.network))].sort();
  prompts = (await query("SELECT DISTINCT initial_prompt FROM read_parquet($1) ORDER BY 1", [frame])).map((r) => String(r.initial_prompt));
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const fresh = (name: string) => join(mkdtempSync(join(dir, "case-")), name);
/** The series a mark kind draws: the value after "<title>: " in each mark's aria-label. */
const series = (svg: string, mark: string, title: string) =>
  [...svg.matchAll(new RegExp(`<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="${mark}"`, "g"))].map(
    (m) => new RegExp(`${title}: ([^;]*)`).exec(m[1]!)?.[1] ?? "",
  );
const texts = (svg: string, role: string) => [...svg.matchAll(new RegExp(`class="mark-text role-${role}"[^>]*>(?:<text[^>]*>([^<]*)</text>)+`, "g"))].map((m) => m[1]);
const svgSize = (svg: string) => {
  const m = /^(?:<!-- panic-drift plot -->\n)?<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
};
const sane = (svg: string) => {
  expect(xmlProblem(svg)).toBeNull();
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
};

describe("plot --kind lines (the default)", () => {
  it("one line and one band per network in each embedding model's panel, axis titles, well-formed SVG", async () => {
    const out = fresh("drift.svg");
    const r = await plot(["--db", db, "--out", out]);
    expect(r.stderr).toBe(`panic-drift: lines plot of ${networks.length} groups × 2 embedding models from ${frame} → ${out}\n`);
    const svg = readFileSync(out, "utf8");
    defaultSvg = svg;
    sane(svg);
    const lines = series(svg, "line mark", "network");
    expect(lines).toHaveLength(networks.length * 2);
    expect([...new Set(lines)].sort()).toEqual(networks);
    expect(series(svg, "area mark", "network")).toHaveLength(networks.length * 2);
    // The frame says which metric made it.
    expect(texts(svg, "axis-title")).toEqual(expect.arrayContaining(["sequence number", "mean semantic drift (euclid)"]));
    expect(texts(svg, "legend-label").sort()).toEqual(networks);
    expect(svg).toContain(">Dummy</text>");
    expect(svg).toContain(">Dummy2</text>");
  });

  it("--spec: the Vega-Lite spec with the data, which is the mean and 95% t-interval across runs per step, cut at [0, 2]", async () => {
    const specFile = fresh("drift.vl.json");
    const r = await plot(["--in", frame, "--spec", specFile]);
    expect(r.stderr).toMatch(/→ .*drift\.vl\.json\n$/);
    expect(readdirSync(join(specFile, ".."))).toEqual(["drift.vl.json"]);
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    expect(spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v6.json");
    expect(spec.facet.column.field).toBe("embedding_model");
    const points = spec.data.values as { group: string; embedding_model: string; sequence_number: number; runs: number; mean: number; ci_low: number | null; ci_high: number | null }[];
    // Checked here in plain TypeScript for every point.
    const cells = new Map<string, number[]>();
    let cut = 0;
    for (const row of drifted) {
      const key = JSON.stringify([row.network, row.embedding_model, row.sequence_number]);
      cells.set(key, [...(cells.get(key) ?? []), row.semantic_drift]);
    }
    expect(points).toHaveLength(cells.size);
    for (const point of points) {
      const values = cells.get(JSON.stringify([point.group, point.embedding_model, point.sequence_number]))!;
      const n = values.length;
      const mean = values.reduce((s, v) => s + v, 0) / n;
      expect(point.runs).toBe(n);
      expect(point.mean).toBeCloseTo(mean, 12);
      if (n === 1) {
        expect(point.ci_low).toBeNull();
        continue;
      }
      const half = (T975[n - 1]! * Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1))) / Math.sqrt(n);
      expect(point.ci_low!).toBeCloseTo(Math.max(0, mean - half), 12);
      expect(point.ci_high!).toBeCloseTo(Math.min(2, mean + half), 12);
      if (mean - half < 0) cut++;
    }
    // Two-run steps (t = 12.7) reach below 0: their bands are cut.
    expect(cut).toBeGreaterThan(0);
    // The unfinished run makes steps with fewer runs than the others.
    expect(new Set(points.map((p) => p.runs)).size).toBeGreaterThan(1);
  });

  it("PNG: the SVG's size times --scale, and not blank", async () => {
    const pngFile = fresh("drift.png");
    const r = await plot(["--db", db, "--out", pngFile, "--scale", "2", "-q"]);
    expect(r.stderr).toBe("");
    const size = svgSize(defaultSvg);
    const png = readPng(readFileSync(pngFile));
    expect({ width: png.width, height: png.height }).toEqual({ width: size.width * 2, height: size.height * 2 });
    expect(distinctColours(png)).toBeGreaterThan(20);
    // Mostly the white background, with ink on it.
    const white = png.pixels.filter((_, i) => i % png.channels === 0 && png.pixels[i] === 255).length / (png.width * png.height);
    expect(white).toBeGreaterThan(0.5);
    expect(white).toBeLessThan(0.99);
  });

  it("--width and --height size each panel", async () => {
    const out = fresh("sized.svg");
    await plot(["--db", db, "--out", out, "--width", "200", "--height", "150", "-q"]);
    // The panels' frames, one per embedding model.
    const all = [...readFileSync(out, "utf8").matchAll(/d="M0\.5,0\.5h(\d+)v(\d+)h-\d+Z" stroke="#ddd"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(all).toEqual([
      [200, 150],
      [200, 150],
    ]);
  });

  it("--by: one series per value of other columns; labels over 32 columns shortened, the full text as a <title>", async () => {
    const out = fresh("prompts.svg");
    await plot(["--db", db, "--out", out, "--by", "initial_prompt", "-q"]);
    const svg = readFileSync(out, "utf8");
    sane(svg);
    const short = shortTexts(prompts, 32);
    expect([...new Set(series(svg, "line mark", "initial_prompt"))].sort()).toEqual([...short.values()].sort());
    expect(series(svg, "line mark", "initial_prompt")).toHaveLength(prompts.length * 2);
    // "a red bicycle leaning against a wall" is 36 columns.
    expect(prompts.some((p) => short.get(p) !== p)).toBe(true);
    for (const prompt of prompts) {
      if (short.get(prompt) !== prompt) expect(svg).toContain(`><title>${prompt}</title>${short.get(prompt)}</text>`);
    }
  });
});

describe("plot --kind ridge and hist", () => {
  it("ridge: one density ridge per group in each panel, close to an exact kernel density", async () => {
    const out = fresh("ridge.svg");
    const specFile = fresh("ridge.json");
    await plot(["--in", frame, "--kind", "ridge", "--out", out, "--spec", specFile, "-q"]);
    const svg = readFileSync(out, "utf8");
    sane(svg);
    const ridges = series(svg, "area mark", "network");
    expect(ridges).toHaveLength(networks.length * 2);
    expect([...new Set(ridges)].sort()).toEqual(networks);
    expect(texts(svg, "axis-title")).toContain("semantic drift (euclid)");
    const points = JSON.parse(readFileSync(specFile, "utf8")).data.values as { group: string; embedding_model: string; drift: number; density: number }[];
    // An exact Gaussian KDE here, with the same bandwidth rule, over the same range: the binned one in SQL is close to it.
    const all = drifted.map((r) => r.semantic_drift);
    const [lo, hi] = [Math.min(...all), Math.max(...all)];
    for (const group of networks) {
      for (const model of ["Dummy", "Dummy2"]) {
        const values = drifted.filter((r) => r.network === group && r.embedding_model === model).map((r) => r.semantic_drift).sort((a, b) => a - b);
        const n = values.length;
        const mean = values.reduce((s, v) => s + v, 0) / n;
        const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
        const quantile = (q: number) => {
          const at = q * (n - 1);
          return values[Math.floor(at)]! + (at - Math.floor(at)) * (values[Math.ceil(at)]! - values[Math.floor(at)]!);
        };
        const iqr = quantile(0.75) - quantile(0.25);
        const h = Math.max(0.9 * (iqr > 0 ? Math.min(sd, iqr / 1.34) : sd) * n ** -0.2, (hi - lo) / 64);
        const curve = points.filter((p) => p.group === group && p.embedding_model === model);
        expect(curve).toHaveLength(128);
        expect(curve[0]!.drift).toBeCloseTo(lo, 12);
        expect(curve.at(-1)!.drift).toBeCloseTo(hi, 12);
        const exact = curve.map((p) => values.reduce((s, v) => s + Math.exp(-0.5 * ((p.drift - v) / h) ** 2), 0) / (n * h * Math.sqrt(2 * Math.PI)));
        const peak = Math.max(...exact);
        curve.forEach((p, i) => { expect(Math.abs(p.density - exact[i]!), `${group} ${model} at ${p.drift}`).toBeLessThan(0.01 * peak); });
      }
    }
  });

  it("hist: the final drift of every run, stacked by group", async () => {
    const out = fresh("final.png");
    const specFile = fresh("final.json");
    await plot(["--in", frame, "--kind", "hist", "--out", out, "--spec", specFile, "-q"]);
    const png = readPng(readFileSync(out));
    expect(distinctColours(png)).toBeGreaterThan(20);
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    const bins = spec.data.values as { group: string; embedding_model: string; bin_start: number; bin_end: number; runs: number }[];
    const runs = new Set(drifted.map((r) => r.run_id)).size;
    for (const model of ["Dummy", "Dummy2"]) expect(bins.filter((b) => b.embedding_model === model).reduce((n, b) => n + b.runs, 0)).toBe(runs);
    expect([...new Set(bins.map((b) => b.group))].sort()).toEqual(networks);
    expect(bins.every((b) => b.bin_end > b.bin_start)).toBe(true);

    const svgFile = fresh("final.svg");
    await plot(["--in", frame, "--kind", "hist", "--out", svgFile, "-q"]);
    const svg = readFileSync(svgFile, "utf8");
    sane(svg);
    expect(texts(svg, "axis-title")).toEqual(expect.arrayContaining(["final semantic drift (euclid)", "runs"]));
    expect(texts(svg, "legend-label").sort()).toEqual(networks);
  });
});

describe("plot: bad input, one line each", () => {
  let notFrame: string;
  let allNull: string;
  let bad: string;
  beforeAll(async () => {
    bad = mkdtempSync(join(dir, "bad-"));
    notFrame = join(dir, "other.parquet");
    await query(`COPY (SELECT 'x' AS run_id, 0.5 AS semantic_drift) TO '${notFrame}' (FORMAT parquet)`);
    allNull = join(dir, "null.parquet");
    await query(`COPY (SELECT * REPLACE (CAST(NULL AS DOUBLE) AS semantic_drift) FROM read_parquet('${frame}')) TO '${allNull}' (FORMAT parquet)`);
  });

  const fresh = (name: string) => join(mkdtempSync(join(bad, "case-")), name);
  const cases: [string, () => string[], number, RegExp][] = [
    ["a missing --in file", () => ["--in", join(dir, "absent.parquet"), "--out", fresh("a.svg")], 1, /drift frame not found: .*absent\.parquet/],
    ["--db whose frame was never computed", () => ["--db", join(dir, "never.sqlite"), "--out", fresh("a.svg")], 1, /run panic-drift compute --db .*never\.sqlite first/],
    ["a parquet file that is not a frame", () => ["--in", notFrame, "--out", fresh("a.svg")], 1, /not a panic-drift frame: missing columns id, .* \(it has run_id, semantic_drift\)/],
    ["an output directory that does not exist", () => ["--in", frame, "--out", join(bad, "nowhere", "a.svg")], 1, /output directory .*nowhere does not exist/],
    ["a frame without any drift", () => ["--in", allNull, "--out", fresh("a.svg")], 1, /nothing to plot: .*null\.parquet has no row with a semantic_drift value/],
    ["--out of another kind of file", () => ["--in", frame, "--out", fresh("a.pdf")], 2, /must end in \.svg or \.png/],
    ["neither --out nor --spec", () => ["--in", frame], 2, /missing --out FILE\.svg or FILE\.png/],
    ["an unknown --kind", () => ["--in", frame, "--out", fresh("a.svg"), "--kind", "pie"], 2, /argument 'pie' is invalid/],
    ["an unknown --by column", () => ["--in", frame, "--out", fresh("a.svg"), "--by", "netwrk"], 2, /--by: unknown column 'netwrk': allowed are/],
    ["a --width that is not pixels", () => ["--in", frame, "--out", fresh("a.svg"), "--width", "wide"], 2, /--width.*whole pixels/],
    ["a --height too small", () => ["--in", frame, "--out", fresh("a.svg"), "--height", "2"], 2, /--height.*whole pixels/],
    ["a --scale of 0", () => ["--in", frame, "--out", fresh("a.png"), "--scale", "0"], 2, /--scale.*above 0/],
    ["--out and --spec the same file", () => { const f = fresh("a.svg"); return ["--in", frame, "--out", f, "--spec", f]; }, 2, /same file/],
  ];

  it.each(cases)("%s", async (_name, args, code, message) => {
    const r = await runCli(["plot", ...args()]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("("))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(bad, { recursive: true }).filter((f) => /\.(svg|png|pdf)$|\.tmp-/.test(String(f)))).toEqual([]);
    expect(existsSync(join(bad, "nowhere"))).toBe(false);
  });

  it("--debug adds the stack trace", async () => {
    const r = await runCli(["plot", "--in", allNull, "--out", fresh("a.svg"), "--debug"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^panic-drift: error: nothing to plot.*\nPanicDriftError: .*\n\s+at /);
  });

  it("--help lists the kinds and the t-interval, with examples", async () => {
    const help = await runCli(["plot", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n\s+\$ panic-drift plot --db/);
    expect(help.stdout).toMatch(/"lines", "ridge",\s+"hist"/);
    expect(help.stdout).toMatch(/t\(0\.975, n−1\)·sd\/√n/);
  });
});

describe("start-up", () => {
  it("only plot loads vega, vega-lite and resvg: compute's up-to-date path does not", () => {
    // Every module the CLI resolves, logged by a resolve hook; compute (up to date) first, then plot, in one process.
    const hooks = join(dir, "hooks.mjs");
    const log = join(dir, "resolved.txt");
    writeFileSync(hooks, `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) { const found = await next(specifier, context); appendFileSync(${JSON.stringify(log)}, found.url + "\\n"); return found; }`);
    const script = join(dir, "cli.mts");
    const entry = pathToFileURL(fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))).href;
    writeFileSync(script, `import { appendFileSync } from "node:fs";
import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(hooks).href)});
const { main } = await import(${JSON.stringify(entry)});
if (await main(["node", "panic-drift", "compute", "--db", ${JSON.stringify(db)}, "-q"]) !== 0) process.exit(1);
appendFileSync(${JSON.stringify(log)}, "PLOT\\n");
process.exitCode = await main(["node", "panic-drift", "plot", "--db", ${JSON.stringify(db)}, "--out", ${JSON.stringify(join(dir, "startup.png"))}, "-q"]);`);
    const r = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const [upToDate, plotting] = readFileSync(log, "utf8").split("PLOT\n");
    const heavy = /node_modules\/(vega|vega-lite|@resvg)\//;
    expect(upToDate).toMatch(/src\/cli\/main\.ts/);
    expect(upToDate).not.toMatch(heavy);
    expect(plotting).toMatch(/node_modules\/vega\//);
    expect(plotting).toMatch(/node_modules\/@resvg\//);
    rmSync(join(dir, "startup.png"));
  });
});
