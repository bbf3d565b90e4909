import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { displayWidth } from "../../src/common/shortText.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { query } from "../support/readParquet.js";
import { runCli } from "../support/runCli.js";
import { plot } from "../support/plot/runPlot.js";
import { readPng, type Png } from "../support/plot/pngPixels.js";
import { xmlProblem } from "../support/plot/xmlCheck.js";

/**
 * Plots that stay readable with many groups, long prompts and scripts the
 * fonts may lack: the y axis inside the metric's range, a colour per group
 * (or the top groups and "other"), labels cut at word boundaries with the
 * full text kept, and a warning for labels a PNG cannot draw.
 */
let dir: string;
/** 19 prompts × 2 runs: every group has two runs (t = 12.7), so the uncut bands span about −3 to 5. */
let many: string;
let manyPrompts: string[];
/** CJK, Hangul, emoji, Greek and Cyrillic, and Latin prompts, 2 runs each. */
let scripts: string;

const LONG =
  "An extraordinarily detailed panorama of a medieval market square at dawn, merchants arriving with carts of apples, pears and cheese, while pigeons scatter over the cobblestones and a bell rings somewhere far away";
const BASES = ["a red bicycle leaning against a wall", "a cat sitting on a windowsill", "a lighthouse on a stormy coast", "two people sharing an umbrella"];
const CJK = ["東京の夜景", "夏の海辺で遊ぶ子供たち", "한국어 프롬프트"];
const DRAWABLE = ["🐉🌸 dragon and flowers", "Ελληνικά και русский", "Café crème à Zürich", "a cat on a mat"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-plot-readable-"));
  manyPrompts = Array.from({ length: 19 }, (_, i) => (i === 3 ? LONG : `${BASES[i % 4]} number ${i + 1}`));
  many = join(dir, "many.sqlite");
  makePanicDb(many, { runs: 38, steps: 12, prompts: manyPrompts, networks: [["FluxDev", "BLIP2", "SDXLTurbo", "Moondream"], ["SDXLTurbo", "BLIP2"]] });
  scripts = join(dir, "scripts.sqlite");
  makePanicDb(scripts, { runs: 14, steps: 10, prompts: [...CJK, ...DRAWABLE] });
  for (const db of [many, scripts]) {
    const compute = await runCli(["compute", "--db", db, "--quiet"]);
    expect(compute.code, compute.stderr).toBe(0);
  }
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const fresh = (name: string) => join(mkdtempSync(join(dir, "case-")), name);
const texts = (svg: string, role: string) =>
  [...svg.matchAll(new RegExp(`class="mark-text role-${role}"[^>]*>((?:<text[^>]*>(?:<title>[^<]*</title>)?[^<]*</text>)+)`, "g"))].flatMap((m) =>
    [...m[1]!.matchAll(/<text[^>]*>(?:<title>[^<]*<\/title>)?([^<]*)<\/text>/g)].map((t) => unescape(t[1]!)),
  );
const titles = (svg: string) => new Map([...svg.matchAll(/<title>([^<]*)<\/title>([^<]*)<\/text>/g)].map((m) => [unescape(m[2]!), unescape(m[1]!)]));
const unescape = (s: string) => s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
/** The colours (stroke) of the line marks. */
const lineColours = (svg: string) => [...svg.matchAll(/aria-roledescription="line mark" d="[^"]*" stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
/** How many pixels have exactly this colour. */
const pixelsOf = (png: Png, hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) if (png.pixels[i] === r && png.pixels[i + 1] === g && png.pixels[i + 2] === b) n++;
  return n;
};
/** A label cut by shortText: what it keeps ends where a word of the full text ends, and the cut is marked. */
const cutAtWord = (short: string, full: string) => {
  if (short === full) return true;
  const head = short.split("…")[0]!;
  return short.includes("…") && full.startsWith(head) && /^[\s,;:·→-]/.test(full.slice(head.length) || " ");
};

describe("plot: 19 groups of two runs, by initial_prompt", () => {
  let svg: string;
  let png: Png;
  let spec: {
    data: { values: { group: string; label: string; ci_low: number | null; ci_high: number | null; mean: number }[] };
    spec: { layer: { mark: { opacity?: number } }[] };
  };
  beforeAll(async () => {
    const out = fresh("many.svg");
    const pngFile = fresh("many.png");
    const specFile = fresh("many.json");
    await plot(["--db", many, "--by", "initial_prompt", "--out", out, "--spec", specFile, "-q"]);
    const r = await plot(["--db", many, "--by", "initial_prompt", "--out", pngFile]);
    expect(r.stderr).toBe(`panic-drift: lines plot of 19 groups × 2 embedding models from ${join(dir, "many.drift.parquet")} → ${pngFile}\n`);
    svg = readFileSync(out, "utf8");
    png = readPng(readFileSync(pngFile));
    spec = JSON.parse(readFileSync(specFile, "utf8"));
    expect(xmlProblem(svg)).toBeNull();
  });

  it("the y axis stays inside the metric's range [0, 2]: the bands are cut there", () => {
    const axis = /aria-label="Y-axis titled 'mean semantic drift \(euclid\)' for a linear scale with values from (-?[\d.]+) to (-?[\d.]+)"/.exec(svg)!;
    expect(Number(axis[1])).toBeGreaterThanOrEqual(0);
    expect(Number(axis[2])).toBeLessThanOrEqual(2);
    const points = spec.data.values.filter((p) => p.ci_low !== null);
    expect(points.every((p) => p.ci_low! >= 0 && p.ci_high! <= 2)).toBe(true);
    // Without the cut they would leave it: two runs and t = 12.7.
    expect(points.filter((p) => p.ci_low === 0).length).toBeGreaterThan(10);
    expect(points.filter((p) => p.ci_high === 2).length).toBeGreaterThan(10);
    // 19 bands of 0.2 would wash the panels out: they are fainter.
    expect(spec.spec.layer[0]!.mark.opacity).toBeCloseTo(1.6 / 19, 12);
    // The ticks, too.
    const ticks = texts(svg, "axis-label").map(Number).filter((n) => !Number.isInteger(n) || n <= 2);
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(0);
  });

  it("19 colours, none repeated, each on the picture", () => {
    const colours = lineColours(svg);
    expect(colours).toHaveLength(38);
    expect(new Set(colours).size).toBe(19);
    for (const colour of new Set(colours)) expect(pixelsOf(png, colour), colour).toBeGreaterThan(20);
  });

  it("legend labels: at most 32 columns, cut after a word, all different, the full prompt as the SVG <title>", () => {
    const labels = texts(svg, "legend-label");
    expect(labels).toHaveLength(19);
    expect(new Set(labels).size).toBe(19);
    const full = titles(svg);
    for (const label of labels) {
      expect(displayWidth(label), label).toBeLessThanOrEqual(32);
      const prompt = full.get(label) ?? label;
      expect(manyPrompts).toContain(prompt);
      expect(cutAtWord(label, prompt), `${label} ← ${prompt}`).toBe(true);
    }
    expect(full.get(labels.find((l) => l.startsWith("An extraordinarily"))!)).toBe(LONG);
    // Prompts that share their beginning keep their different ends.
    expect(labels).toEqual(expect.arrayContaining(["a cat sitting on a windowsill…2", "a cat sitting on a windowsill…14"]));
    // The spec keeps both: the short label for the legend, the full group for the tooltip.
    expect(new Set(spec.data.values.map((p) => p.group))).toEqual(new Set(manyPrompts));
  });

  it("ridge: a 200-character prompt takes no more room than any other header", async () => {
    const out = fresh("ridge.svg");
    await plot(["--db", many, "--by", "initial_prompt", "--kind", "ridge", "--out", out, "-q"]);
    const ridge = readFileSync(out, "utf8");
    expect(xmlProblem(ridge)).toBeNull();
    // The row headers are title marks of the facet's rows; the others are the plot's and the columns' titles.
    const headers = texts(ridge, "title-text").filter((t) => !/^(Distribution of semantic drift|embedding model|initial_prompt|Dummy2?$)/.test(t));
    expect(headers).toHaveLength(19);
    for (const header of headers) expect(displayWidth(header), header).toBeLessThanOrEqual(32);
    expect(headers).toContain("An extraordinarily detailed…");
    // Two 360-pixel panels and the headers: the full prompt once made it 2,616 pixels wide.
    const width = Number(/^(?:<!--[^>]*-->\n)?<svg [^>]*width="(\d+)"/.exec(ridge)![1]);
    expect(width).toBeLessThan(1100);
    expect(new Set([...ridge.matchAll(/aria-roledescription="area mark" d="[^"]*" fill="(#[0-9a-f]{6})"/g)].map((m) => m[1])).size).toBe(19);
  });
});

describe("plot: more groups than colours", () => {
  it("--top 5: the five groups with the most runs, the rest pooled as 'other' in grey, last in the legend", async () => {
    const out = fresh("top.svg");
    const specFile = fresh("top.json");
    // 38 runs over (prompt, network): prompt i has runs i and i + 19; every prompt has two, and ties go by name.
    const r = await plot(["--db", many, "--by", "initial_prompt", "--top", "5", "--out", out, "--spec", specFile]);
    expect(r.stderr).toMatch(/lines plot of 19 groups \(the 5 with the most runs, 14 pooled as other\) × 2 embedding models/);
    const svg = readFileSync(out, "utf8");
    const labels = texts(svg, "legend-label");
    const kept = [...manyPrompts].sort().slice(0, 5);
    expect(labels).toHaveLength(6);
    expect(labels.at(-1)).toBe("other (14 groups)");
    expect(labels.slice(0, 5).map((l) => titles(svg).get(l) ?? l)).toEqual(kept);
    expect(new Set(lineColours(svg)).size).toBe(6);
    expect(svg).toMatch(/aria-label="[^"]*initial_prompt: other \(14 groups\)[^"]*" role="graphics-symbol" aria-roledescription="line mark" d="[^"]*" stroke="#333333"/);
    // "other" is the pooled runs: at each step, every run the kept groups do not have.
    const points = JSON.parse(readFileSync(specFile, "utf8")).data.values as { group: string; embedding_model: string; sequence_number: number; runs: number; mean: number }[];
    const frame = join(dir, "many.drift.parquet");
    const rows = await query(
      `SELECT embedding_model, sequence_number, count(DISTINCT run_id) AS runs, avg(semantic_drift) AS mean FROM read_parquet($1)
       WHERE semantic_drift IS NOT NULL AND initial_prompt NOT IN (${kept.map((k) => `'${k}'`).join(", ")}) GROUP BY ALL`,
      [frame],
    );
    for (const row of rows) {
      const point = points.find((p) => p.group === "other (14 groups)" && p.embedding_model === row.embedding_model && p.sequence_number === Number(row.sequence_number))!;
      expect(point.runs).toBe(Number(row.runs));
      // Each run has one row per step here, so the mean of runs is the mean of rows.
      expect(point.mean).toBeCloseTo(Number(row.mean), 12);
    }
  });

  it("by default at most 20 groups: 38 (prompt, network) groups draw 20 and 'other (18 groups)', 21 colours", async () => {
    const out = fresh("default.png");
    const svgFile = fresh("default.svg");
    const r = await plot(["--db", many, "--by", "initial_prompt,network", "--out", out]);
    expect(r.stderr).toMatch(/of 38 groups \(the 20 with the most runs, 18 pooled as other\)/);
    await plot(["--db", many, "--by", "initial_prompt,network", "--out", svgFile, "-q"]);
    const svg = readFileSync(svgFile, "utf8");
    expect(texts(svg, "legend-label")).toHaveLength(21);
    const colours = new Set(lineColours(svg));
    expect(colours.size).toBe(21);
    const png = readPng(readFileSync(out));
    for (const colour of colours) expect(pixelsOf(png, colour), colour).toBeGreaterThan(20);
  });

  it("--top outside 1 to 20 is a usage error", async () => {
    for (const top of ["0", "21", "many"]) {
      const r = await runCli(["plot", "--db", many, "--top", top, "--out", fresh("x.svg")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--top.*1 to 20/);
    }
  });
});

describe("plot: the metric, from the frame", () => {
  it("a cosine frame says so; a frame without panic-drift's metadata is still cut at [0, 2]", async () => {
    const cosine = join(dir, "cosine.parquet");
    expect((await runCli(["compute", "--db", scripts, "--metric", "cosine", "--out", cosine, "-q"])).code).toBe(0);
    const bare = join(dir, "bare.parquet");
    await query(`COPY (SELECT * FROM read_parquet('${cosine}')) TO '${bare}' (FORMAT parquet)`);
    for (const [frame, title] of [
      [cosine, "mean semantic drift (cosine)"],
      [bare, "mean semantic drift"],
    ] as const) {
      const specFile = fresh("m.json");
      await plot(["--in", frame, "--by", "initial_prompt", "--spec", specFile, "-q"]);
      const spec = JSON.parse(readFileSync(specFile, "utf8"));
      expect(spec.spec.layer[1].encoding.y.title).toBe(title);
      expect(spec.title.subtitle).toMatch(/cut at the metric's range \[0, 2\]/);
      const points = spec.data.values as { ci_low: number | null; ci_high: number | null }[];
      expect(points.every((p) => p.ci_low === null || (p.ci_low >= 0 && p.ci_high! <= 2))).toBe(true);
    }
  });
});

describe("plot: labels in other scripts", () => {
  /** Whether the system has a font with 東 (fontconfig's list; resvg reads the same font directories). */
  const systemHasCjk = () => {
    const r = spawnSync("fc-list", [":charset=6771"], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() !== "";
  };

  it("PNG: one warning names the labels no font can draw (CJK without a CJK font); emoji, Greek and Cyrillic are drawn", async () => {
    const out = fresh("scripts.png");
    const r = await plot(["--db", scripts, "--by", "initial_prompt", "--out", out, "-q"]);
    const warnings = r.stderr.split("\n").filter((l) => l !== "");
    if (systemHasCjk()) {
      expect(warnings).toEqual([]);
      return;
    }
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning).toMatch(new RegExp(`^panic-drift: warning: ${out.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 3 labels cannot be drawn whole, no font here has 夏 の 海 辺 .*: `));
    for (const label of CJK) expect(warning).toContain(`"${label}"`);
    for (const label of DRAWABLE) expect(warning).not.toContain(label);
    expect(warning).toMatch(/install a font that has them .*or write SVG/);
    expect(readPng(readFileSync(out)).width).toBeGreaterThan(0);
  });

  it("SVG: no warning (its viewer picks the fonts); the text is there as written", async () => {
    const out = fresh("scripts.svg");
    const r = await plot(["--db", scripts, "--by", "initial_prompt", "--out", out, "-q"]);
    expect(r.stderr).toBe("");
    const svg = readFileSync(out, "utf8");
    expect(xmlProblem(svg)).toBeNull();
    expect(texts(svg, "legend-label").sort()).toEqual([...CJK, ...DRAWABLE].sort());
  });
});
