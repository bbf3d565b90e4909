import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { PassThrough } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/cliIO.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { query } from "../support/readParquet.js";
import { runCli } from "../support/runCli.js";
import { displayWidth } from "../../src/common/shortText.js";
import { perGroup, perRun, STATS, type FrameRow } from "./independentSummary.js";

/**
 * `panic-drift summary` against an independent recomputation (plain
 * TypeScript over the frame's rows) on a generated database, against
 * numbers worked out by hand for a database whose drift is chosen, and
 * through every option.
 */
let dir: string;
/** 10 runs over 2 networks × 2 models, the last 3 unfinished (shorter, last vector NULL). */
let generated: string;
let generatedFrame: string;
let frameRows: FrameRow[];
/** Two runs of one model whose drift is set step by step (see HAND). */
let hand: string;
let handFrame: string;

/** Drift by run and sequence_number; null: a NULL vector. TEXT steps are the odd ones. */
const HAND: Record<number, Record<number, number | null>> = {
  0: { 1: 0.2, 3: 1.2, 5: null, 7: 0.6 },
  1: { 1: 0.4, 3: 0.6, 5: 0.8, 7: 0.95 },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-summary-"));
  generated = join(dir, "generated.sqlite");
  makePanicDb(generated, { runs: 10, steps: 14, unfinishedRuns: 3 });
  const compute = await runCli(["compute", "--db", generated, "--quiet"]);
  expect(compute.code, compute.stderr).toBe(0);
  generatedFrame = join(dir, "generated.drift.parquet");
  frameRows = (await query("SELECT * EXCLUDE (started_at, completed_at) FROM read_parquet($1)", [generatedFrame])).map((r) => ({
    ...(r as FrameRow),
    sequence_number: Number(r.sequence_number),
  }));

  // A 2-d model against the reference [1, 0]: the vector at angle θ = 2·asin(d/2) has euclid drift d.
  hand = join(dir, "hand.sqlite");
  makePanicDb(hand, {
    runs: 2,
    steps: 8,
    embeddingModels: [{ name: "Synth", dim: 2 }],
    prompts: ["a cat"],
    networks: [["SDXLTurbo", "BLIP2"]],
    vectorFor: (_model, _text, _rng, ctx) => {
      const drift = HAND[ctx.runIndex]?.[ctx.sequenceNumber];
      if (drift === null || drift === undefined) return null;
      const angle = 2 * Math.asin(drift / 2);
      return Float32Array.of(Math.cos(angle), Math.sin(angle));
    },
  });
  const vectors = join(dir, "hand-vectors.json");
  writeFileSync(vectors, JSON.stringify([{ initial_prompt: "a cat", embedding_model: "Synth", vector: [1, 0] }]));
  const handCompute = await runCli(["compute", "--db", hand, "--prompt-vectors", vectors, "--quiet"]);
  expect(handCompute.code, handCompute.stderr).toBe(0);
  handFrame = join(dir, "hand.drift.parquet");
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const fresh = (name: string) => join(mkdtempSync(join(dir, "case-")), name);
const json = async (args: string[]) => {
  const r = await runCli([...args, "--format", "json", "--quiet"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
};
const close = (actual: unknown, expected: number | null, what: string) => {
  if (expected === null) { expect(actual, what).toBeNull(); return; }
  expect(typeof actual, what).toBe("number");
  const value = actual as number;
  expect(Math.abs(value - expected), `${what}: ${value} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
};

describe("summary: the numbers", () => {
  it("per group, as the independent computation has them (default --by network,embedding_model and --threshold 1)", async () => {
    const rows = await json(["summary", "--in", generatedFrame]);
    const expected = perGroup(perRun(frameRows, ["network", "embedding_model"], 1), ["network", "embedding_model"]);
    expect(rows).toHaveLength(expected.length);
    expect(Object.keys(rows[0]!)).toEqual([
      "network",
      "embedding_model",
      "runs",
      "steps_min",
      "steps_max",
      ...STATS.flatMap((s) => [`${s}_mean`, `${s}_ci_low`, `${s}_ci_high`]),
    ]);
    // The test means something: groups of several runs, unfinished runs among them, runs over the threshold and runs never over it.
    expect(rows.every((r) => (r.runs as number) >= 4)).toBe(true);
    expect(rows.some((r) => (r.steps_min as number) < (r.steps_max as number))).toBe(true);
    const runs = perRun(frameRows, [], 1);
    expect(runs.some((r) => r.first_over === null) && runs.some((r) => r.first_over !== null)).toBe(true);
    for (const want of expected) {
      const got = rows.find((r) => r.network === want.key.network && r.embedding_model === want.key.embedding_model);
      expect(got, JSON.stringify(want.key)).toBeDefined();
      for (const column of ["runs", "steps_min", "steps_max"]) expect(got![column]).toBe(want[column]);
      for (const stat of STATS) for (const part of ["mean", "ci_low", "ci_high"]) close(got![`${stat}_${part}`], want[`${stat}_${part}`] as number | null, `${JSON.stringify(want.key)} ${stat}_${part}`);
    }
    // Sorted by the --by columns.
    const keys = rows.map((r) => `${String(r.network)}\u0000${String(r.embedding_model)}`);
    expect(keys).toEqual([...keys].sort());
  });

  it("--per-run: one row per run and embedding model, as the independent computation has them", async () => {
    const rows = await json(["summary", "--in", generatedFrame, "--per-run", "--threshold", "1.2"]);
    const expected = perRun(frameRows, ["network", "embedding_model"], 1.2);
    expect(expected.some((r) => r.first_over === null) && expected.some((r) => r.first_over !== null)).toBe(true);
    expect(rows).toHaveLength(expected.length);
    expect(Object.keys(rows[0]!)).toEqual(["run_id", "network", "embedding_model", "steps", "final", "max", "mean", "auc", "first_over"]);
    for (const want of expected) {
      const got = rows.find((r) => r.run_id === want.key.run_id && r.embedding_model === want.key.embedding_model)!;
      expect(got.network).toBe(want.key.network);
      expect(got.steps).toBe(want.steps);
      for (const stat of STATS) close(got[stat], want[stat], `${want.key.run_id} ${want.key.embedding_model} ${stat}`);
    }
    const order = rows.map((r) => `${String(r.run_id)}\u0000${String(r.embedding_model)}`);
    expect(order).toEqual([...order].sort());
  });

  it("by hand: two runs, a NULL vector in one (steps count it, the statistics skip it)", async () => {
    const runs = await json(["summary", "--db", hand, "--per-run"]);
    const [first, second] = [runs.find((r) => r.final !== null && Math.abs((r.final as number) - 0.6) < 1e-6)!, runs.find((r) => Math.abs((r.final as number) - 0.95) < 1e-6)!];
    // Run 0: drift 0.2, 1.2, (NULL), 0.6 at steps 1, 3, (5), 7.
    expect(first.steps).toBe(4);
    expect(first.max).toBeCloseTo(1.2, 6);
    expect(first.mean).toBeCloseTo(0.6666667, 6); // (0.2 + 1.2 + 0.6) / 3
    expect(first.auc).toBeCloseTo(5.0, 6); // 2·(0.2 + 1.2)/2 + 4·(1.2 + 0.6)/2 = 1.4 + 3.6
    expect(first.first_over).toBe(3); // 1.2 > 1.0
    // Run 1: drift 0.4, 0.6, 0.8, 0.95 at steps 1, 3, 5, 7.
    expect(second.steps).toBe(4);
    expect(second.max).toBeCloseTo(0.95, 6);
    expect(second.mean).toBeCloseTo(0.6875, 6);
    expect(second.auc).toBeCloseTo(4.15, 6); // 1.0 + 1.4 + 1.75
    expect(second.first_over).toBeNull(); // never over 1.0

    const [group] = await json(["summary", "--db", hand]);
    expect(group).toMatchObject({ network: "SDXLTurbo→BLIP2", embedding_model: "Synth", runs: 2, steps_min: 4, steps_max: 4 });
    // final: 0.6 and 0.95, mean 0.775, sd 0.35/√2, half-width t(0.975, 1)·sd/√2 = 12.7062047·0.175 = 2.2235858.
    expect(group!.final_mean).toBeCloseTo(0.775, 6);
    expect(group!.final_ci_low).toBeCloseTo(0.775 - 2.2235858, 6);
    expect(group!.final_ci_high).toBeCloseTo(0.775 + 2.2235858, 6);
    expect(group!.auc_mean).toBeCloseTo(4.575, 6);
    // first_over: one run has it, so its mean is that run's, with no interval.
    expect(group!.first_over_mean).toBe(3);
    expect(group!.first_over_ci_low).toBeNull();
    expect(group!.first_over_ci_high).toBeNull();

    // --threshold 0.5: run 1 crosses at step 3 (0.6) too, run 0 at step 3 (1.2).
    const [lower] = await json(["summary", "--db", hand, "--threshold", "0.5"]);
    expect(lower!.first_over_mean).toBe(3);
    expect(lower!.first_over_ci_low).toBe(3);
    expect(lower!.first_over_ci_high).toBe(3);
  });

  it("a group of one run has NULL intervals (--by run_id)", async () => {
    const rows = await json(["summary", "--db", hand, "--by", "run_id"]);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.runs).toBe(1);
      for (const stat of ["final", "max", "mean", "auc"]) {
        expect(row[`${stat}_mean`]).not.toBeNull();
        expect(row[`${stat}_ci_low`]).toBeNull();
        expect(row[`${stat}_ci_high`]).toBeNull();
      }
    }
  });

  it("--by other columns, several at once, repeats dropped", async () => {
    const rows = await json(["summary", "--in", generatedFrame, "--by", "initial_prompt, text_model,initial_prompt"]);
    const expected = perGroup(perRun(frameRows, ["initial_prompt", "text_model"], 1), ["initial_prompt", "text_model"]);
    expect(rows).toHaveLength(expected.length);
    expect(Object.keys(rows[0]!).slice(0, 3)).toEqual(["initial_prompt", "text_model", "runs"]);
    for (const want of expected) {
      const got = rows.find((r) => r.initial_prompt === want.key.initial_prompt && r.text_model === want.key.text_model)!;
      expect(got.runs).toBe(want.runs);
      close(got.auc_mean, want.auc_mean as number, "auc_mean");
      close(got.mean_ci_high, want.mean_ci_high as number | null, "mean_ci_high");
    }
  });

  it("--min-steps leaves out the shorter (unfinished) runs, and says so", async () => {
    const all = perRun(frameRows, ["network", "embedding_model"], 1);
    const short = all.filter((r) => r.steps < 5).length;
    expect(short).toBeGreaterThan(0);
    const r = await runCli(["summary", "--in", generatedFrame, "--min-steps", "5", "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const expected = perGroup(all.filter((run) => run.steps >= 5), ["network", "embedding_model"]);
    expect(rows.reduce((n, row) => n + (row.runs as number), 0)).toBe(all.length - short);
    for (const want of expected) {
      const got = rows.find((row) => row.network === want.key.network && row.embedding_model === want.key.embedding_model)!;
      expect(got.runs).toBe(want.runs);
      expect(got.steps_min).toBeGreaterThanOrEqual(5);
      close(got.final_mean, want.final_mean as number, "final_mean");
      close(got.final_ci_low, want.final_ci_low as number, "final_ci_low");
    }
    expect(r.stderr).toBe(`panic-drift: ${rows.length} groups of ${all.length - short} runs (${short} with fewer than 5 steps left out) from ${generatedFrame}\n`);
  });
});

describe("summary: where it reads and writes", () => {
  it("--db reads the frame compute --db wrote; so does $DATABASE_PATH; --in says which file", async () => {
    const byDb = await runCli(["summary", "--db", generated, "--quiet"]);
    const byEnv = await runCli(["summary", "--quiet"], { DATABASE_PATH: generated });
    const byIn = await runCli(["summary", "--in", generatedFrame, "--quiet"]);
    expect(byDb.code).toBe(0);
    expect(byDb.stdout).toBe(byIn.stdout);
    expect(byEnv.stdout).toBe(byIn.stdout);
  });

  it("CSV on stdout when it is not a terminal, an aligned table when it is, and --format says otherwise", async () => {
    const csv = await runCli(["summary", "--db", hand, "--quiet"]);
    expect(csv.stdout.split("\n")[0]).toBe(
      "network,embedding_model,runs,steps_min,steps_max,final_mean,final_ci_low,final_ci_high,max_mean,max_ci_low,max_ci_high,mean_mean,mean_ci_low,mean_ci_high,auc_mean,auc_ci_low,auc_ci_high,first_over_mean,first_over_ci_low,first_over_ci_high",
    );
    expect(csv.stdout.split("\n")[1]).toMatch(/^SDXLTurbo→BLIP2,Synth,2,4,4,0\.77\d+,-1\.44\d+,2\.99\d+,.*,3\.0,,$/);

    const wide = await runOnTerminal(["summary", "--db", hand, "--per-run", "--format", "wide"]);
    expect(wide.code).toBe(0);
    const lines = wide.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run_id +network +embedding_model +steps +final +max +mean +auc +first_over$/);
    expect(lines[1]).toMatch(/^-+( +-+){8}$/);
    expect(lines).toHaveLength(4);
    // Numbers right-aligned to 4 decimals, NULL spelled out; the columns line up.
    expect(wide.stdout).toMatch(/ 0\.6000 +1\.2000 +0\.6667 +5\.0000 +3\n/);
    expect(wide.stdout).toMatch(/ 0\.9500 +0\.9500 +0\.6875 +4\.1500 +NULL\n/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);

    // By default on a terminal: the table that fits 100 columns (the run ids cut), numbers to 3 significant digits.
    const tty = await runOnTerminal(["summary", "--db", hand, "--per-run"]);
    const fitted = tty.stdout.trimEnd().split("\n");
    expect(fitted[0]).toMatch(/^run_id +network +embedding_model +steps +final +max +mean +auc +first_over$/);
    expect(fitted).toHaveLength(5);
    expect(fitted.at(-1)).toBe("(--format wide shows all)");
    expect(tty.stdout).toMatch(/ 0\.600 +1\.20 +0\.667 +5\.00 +3\n/);
    for (const line of fitted) expect(line.length).toBeLessThanOrEqual(100);

    const csvOnTerminal = await runOnTerminal(["summary", "--db", hand, "--format", "csv"]);
    expect(csvOnTerminal.stdout).toBe(csv.stdout);
    const tableOffTerminal = await runCli(["summary", "--db", hand, "--per-run", "--format", "table", "--quiet"]);
    expect(tableOffTerminal.stdout).toBe(tty.stdout);
  });

  it("--out writes a file (format from its extension or --format), atomically, and says where", async () => {
    const csv = fresh("summary.csv");
    const r = await runCli(["summary", "--db", hand, "--out", csv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`panic-drift: 1 group of 2 runs from ${handFrame} → ${csv}\n`);
    expect(readFileSync(csv, "utf8")).toBe((await runCli(["summary", "--db", hand, "--quiet"])).stdout);

    const parquet = fresh("summary.parquet");
    expect((await runCli(["summary", "--in", generatedFrame, "--out", parquet, "--quiet"])).code).toBe(0);
    const fromParquet = await query("SELECT * FROM read_parquet($1)", [parquet]);
    expect(fromParquet.map((row) => ({ ...row, runs: Number(row.runs), steps_min: Number(row.steps_min), steps_max: Number(row.steps_max) }))).toEqual(
      await json(["summary", "--in", generatedFrame]),
    );
    const types = await query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))", [parquet]);
    expect(types.find((t) => t.column_name === "final_mean")!.column_type).toBe("DOUBLE");
    // The settings it was made with, the frame's metric and reference among them.
    const kv = await query("SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($1)", [parquet]);
    expect(Object.fromEntries(kv.map((r) => [r.key, r.value]))).toEqual({
      "panic_drift.kind": "summary",
      "panic_drift.frame": generatedFrame,
      "panic_drift.metric": "euclid",
      "panic_drift.reference": "prompt",
      "panic_drift.by": "network,embedding_model",
      "panic_drift.threshold": "1",
      "panic_drift.min_steps": "0",
      "panic_drift.per_run": "false",
    });

    const jsonFile = fresh("summary.data");
    expect((await runCli(["summary", "--db", hand, "--per-run", "--out", jsonFile, "--format", "json", "--quiet"])).code).toBe(0);
    expect(JSON.parse(readFileSync(jsonFile, "utf8"))).toEqual(await json(["summary", "--db", hand, "--per-run"]));

    const text = fresh("summary.txt");
    expect((await runCli(["summary", "--db", hand, "--per-run", "--out", text, "--quiet"])).code).toBe(0);
    // A file is not a terminal: every column.
    expect(readFileSync(text, "utf8")).toBe((await runCli(["summary", "--db", hand, "--per-run", "--format", "wide", "--quiet"])).stdout);
    expect(readdirSync(join(text, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("-q/--quiet: nothing on stderr; without it, one line", async () => {
    const quiet = await runCli(["summary", "--db", hand, "-q"]);
    expect(quiet.stderr).toBe("");
    const loud = await runCli(["summary", "--db", hand, "--per-run"]);
    expect(loud.stderr).toBe(`panic-drift: 2 runs from ${handFrame}\n`);
  });

  it("--help explains the statistics and the t-interval, with examples", async () => {
    const help = await runCli(["summary", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n\s+\$ panic-drift summary --db/);
    expect(help.stdout).toMatch(/mean ± t\(0\.975, n−1\)·sd\/√n/);
    for (const option of ["--in", "--db", "--by", "--threshold", "--min-steps", "--per-run", "--out", "--format", "--quiet", "--debug"]) expect(help.stdout).toContain(option);
  });
});

describe("summary on a terminal: the table fits", () => {
  /** 14 prompts, one of 200 characters, some in CJK, two sharing their first 40; two networks of four models: about 290 columns wide in full. */
  let wide: string;
  let widePrompts: string[];
  beforeAll(async () => {
    widePrompts = [
      "An extraordinarily detailed panorama of a medieval market square at dawn, merchants arriving with carts of apples, pears and cheese, while pigeons scatter over the cobblestones and a bell rings somewhere",
      "夏の海辺で遊ぶ子供たちと大きな花火大会の思い出",
      "a lighthouse on a stormy coast at night, seen from the sea, number one",
      "a lighthouse on a stormy coast at night, seen from the sea, number two",
      ...Array.from({ length: 10 }, (_, i) => `prompt ${i}`),
    ];
    wide = join(dir, "wide.sqlite");
    makePanicDb(wide, { runs: 28, steps: 10, prompts: widePrompts, networks: [["FluxDev", "BLIP2", "SDXLTurbo", "Moondream"], ["SDXLTurbo", "BLIP2", "FluxSchnell", "Florence2"]] });
    expect((await runCli(["compute", "--db", wide, "--quiet"])).code).toBe(0);
  });
  const widths = (text: string) => text.trimEnd().split("\n").map(displayWidth);

  it("100 columns at most, every group there, long values cut at a word and told apart, what is left out said", async () => {
    const all = await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network", "--format", "wide"]);
    expect(Math.max(...widths(all.stdout))).toBeGreaterThan(250);
    const tty = await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network"]);
    expect(tty.code).toBe(0);
    const lines = tty.stdout.trimEnd().split("\n");
    expect(Math.max(...widths(tty.stdout))).toBeLessThanOrEqual(100);
    const csv = (await runCli(["summary", "--db", wide, "--by", "initial_prompt,network", "--quiet"])).stdout.trimEnd().split("\n");
    // Header, rule, a line per group (as many as the CSV has), the note.
    expect(lines).toHaveLength(2 + (csv.length - 1) + 1);
    expect(lines[0]).toMatch(/^initial_prompt +network +runs +final +auc$/);
    expect(lines.at(-1)).toBe("(±: 95% t-interval of the mean; not shown: steps, max, mean, first_over; --format wide shows all)");
    const rows = lines.slice(2, -1);
    expect(new Set(rows.map((r) => r.split(/ {2,}/).slice(0, 2).join(" | "))).size).toBe(rows.length);
    expect(tty.stdout).toContain("An extraordinarily detailed");
    expect(tty.stdout).not.toContain("pigeons");
    expect(tty.stdout).toMatch(/a lighthouse on a stormy…one /);
    expect(tty.stdout).toMatch(/a lighthouse on a stormy…two /);
    expect(tty.stdout).toMatch(/^夏の海辺/m);
    // A group's statistic: its mean ± the half-width of its interval, as in the CSV.
    const first = JSON.parse((await runCli(["summary", "--db", wide, "--by", "initial_prompt,network", "--format", "json", "--quiet"])).stdout)[0];
    const half = (first.final_ci_high - first.final_ci_low) / 2;
    expect(rows[0]).toContain(`${first.final_mean.toFixed(2)} ± ${half.toFixed(2).padStart(4)}`);
  });

  it("a narrower terminal: its width; --format wide, csv and json keep every column, piped or not", async () => {
    const narrow = await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network"], 72);
    expect(Math.max(...widths(narrow.stdout))).toBeLessThanOrEqual(72);
    expect(narrow.stdout.split("\n")[0]).toMatch(/^initial_prompt +network +final$/);

    const header = (text: string) => text.split("\n")[0]!.split(/,| +/);
    const csv = await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network", "--format", "csv"]);
    expect(header(csv.stdout)).toHaveLength(2 + 3 + 15);
    expect(csv.stdout).toContain(widePrompts[0]);
    const piped = await runCli(["summary", "--db", wide, "--by", "initial_prompt,network", "--quiet"]);
    expect(piped.stdout).toBe(csv.stdout);
    const json = JSON.parse((await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network", "--format", "json"])).stdout);
    expect(Object.keys(json[0])).toHaveLength(20);
    const all = await runOnTerminal(["summary", "--db", wide, "--by", "initial_prompt,network", "--format", "wide"], 72);
    expect(header(all.stdout)).toHaveLength(20);
    expect(all.stdout).toContain(widePrompts[0]);
    // Columns line up in terminal columns: CJK counts 2.
    expect(new Set(widths(all.stdout).slice(0, 2)).size).toBe(1);
  });

  it("--per-run: run ids cut to their first 8 digits before a statistic is left out", async () => {
    const tty = await runOnTerminal(["summary", "--db", wide, "--per-run"]);
    expect(Math.max(...widths(tty.stdout))).toBeLessThanOrEqual(100);
    expect(tty.stdout.split("\n")[0]).toMatch(/^run_id +network +embedding_model +steps +final +max +auc +first_over$/);
    expect(tty.stdout.split("\n")[2]).toMatch(/^[0-9a-f]{8}… /);
    expect(tty.stdout.trimEnd().split("\n").at(-1)).toBe("(not shown: mean; --format wide shows all)");
  });
});

describe("summary: bad input, one line each", () => {
  let notFrame: string;
  let notParquet: string;
  beforeAll(async () => {
    notFrame = join(dir, "other.parquet");
    await query(`COPY (SELECT 1 AS run_id, 0.5 AS semantic_drift) TO '${notFrame}' (FORMAT parquet)`);
    notParquet = join(dir, "notes.parquet");
    writeFileSync(notParquet, "not parquet at all");
  });

  const cases: [string, () => string[], number, RegExp][] = [
    ["a missing --in file", () => ["summary", "--in", join(dir, "absent.parquet")], 1, /drift frame not found: .*absent\.parquet: check the --in path/],
    ["--db whose frame was never computed", () => ["summary", "--db", join(dir, "never.sqlite")], 1, /never\.drift\.parquet .*run panic-drift compute --db .*never\.sqlite first/],
    ["a parquet file without the frame's columns", () => ["summary", "--in", notFrame], 1, /other\.parquet is not a panic-drift frame: missing columns id, invocation_id, .*sequence_number.* \(it has run_id, semantic_drift\)/],
    ["a file that is not parquet", () => ["summary", "--in", notParquet], 1, /notes\.parquet is not a parquet file/],
    ["a directory that holds no dataset as --in", () => ["summary", "--in", dir], 1, /is a directory with no part files .*give --in a \.drift\.parquet file, or a dataset directory/],
    ["an output directory that does not exist", () => ["summary", "--in", generatedFrame, "--out", join(dir, "nowhere", "s.csv")], 1, /output directory .*nowhere does not exist/],
    ["--out onto the frame itself", () => ["summary", "--in", generatedFrame, "--out", generatedFrame], 1, /is the drift frame .*: writing it would destroy it/],
    ["an unknown --by column", () => ["summary", "--in", generatedFrame, "--by", "network,model"], 2, /--by: unknown column 'model': allowed are id, invocation_id, embedding_model, .*semantic_drift/],
    ["an empty --by", () => ["summary", "--in", generatedFrame, "--by", " , "], 2, /--by needs at least one column/],
    ["a --threshold that is not a number", () => ["summary", "--in", generatedFrame, "--threshold", "high"], 2, /--threshold.*give a number/],
    ["a negative --min-steps", () => ["summary", "--in", generatedFrame, "--min-steps", "-1"], 2, /--min-steps.*whole number/],
    ["--format parquet without --out", () => ["summary", "--in", generatedFrame, "--format", "parquet"], 2, /--format parquet needs --out/],
    ["an unknown --format", () => ["summary", "--in", generatedFrame, "--format", "xml"], 2, /argument 'xml' is invalid/],
    ["--in with --db", () => ["summary", "--in", generatedFrame, "--db", generated], 2, /--in and --db contradict each other/],
    ["neither --in nor --db", () => ["summary"], 2, /missing --in FILE\.parquet/],
  ];

  it.each(cases)("%s", async (_name, args, code, message) => {
    const r = await runCli(args());
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("("))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
  });

  it("--debug adds the stack trace", async () => {
    const r = await runCli(["summary", "--in", notFrame, "--debug"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^panic-drift: error: .*not a panic-drift frame.*\nPanicDriftError: .*\n\s+at /);
  });
});

/** The CLI with stdout on a terminal (runCli's stdout never is), `columns` wide if given. */
async function runOnTerminal(args: string[], columns?: number): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s), isTTY: true, ...(columns === undefined ? {} : { columns }) },
    stderr: Object.assign(new PassThrough(), { isTTY: false, write: () => true }),
    env: { NO_COLOR: "1" },
  };
  const code = await main(["node", "panic-drift", ...args], io);
  return { code, stdout };
}
