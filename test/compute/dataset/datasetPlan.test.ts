import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planParts } from "../../../src/compute/dataset/datasetPlan.js";
import { parseShard, shardOf } from "../../../src/compute/dataset/shard.js";
import type { ManifestFile } from "../../../src/sink/datasetFiles.js";

const file = (name: string, runs: string[]): ManifestFile => ({ name, size: "1", mtimeNs: "1", source: 0, runs: runs.map((r) => [r, 1, 1, "d"]), tallies: "{}" });
const run = (runId: string, experimentId: string | null = "x") => ({ runId, experimentId });

describe("planParts", () => {
  const files = [file("experiment_id=x/part-0of1-000001.parquet", ["a", "b"]), file("experiment_id=x/part-0of1-000002.parquet", ["c", "d"])];

  it("keeps every file when nothing changed", () => {
    expect(planParts(files, () => true, ["a", "b", "c", "d"].map((r) => run(r)), new Set())).toEqual({ keep: files, rewrite: [], add: [] });
  });

  it("writes again only the file of a recomputed or deleted run; new runs go to new files of at most runsPerFile runs", () => {
    const plan = planParts(files, () => true, ["a", "b", "d", "e", "f", "g"].map((r) => run(r)), new Set(["b", "e", "f", "g"]), 2);
    expect(plan.keep).toEqual([]);
    expect(plan.rewrite).toEqual([
      { name: files[0]!.name, runs: ["a", "b"] },
      { name: files[1]!.name, runs: ["d"] },
    ]);
    expect(plan.add).toEqual([
      { partition: "experiment_id=x", runs: ["e", "f"] },
      { partition: "experiment_id=x", runs: ["g"] },
    ]);
  });

  it("a file whose runs are all gone is written empty; a file not as recorded is written again; a run that changed experiment moves", () => {
    const plan = planParts(files, (f) => f !== files[1], [run("a", "y"), run("b"), run("c"), run("d")], new Set());
    expect(plan.rewrite).toEqual([
      { name: files[0]!.name, runs: ["b"] },
      { name: files[1]!.name, runs: ["c", "d"] },
    ]);
    expect(plan.add).toEqual([{ partition: "experiment_id=y", runs: ["a"] }]);
    const gone = planParts(files, () => true, [run("a"), run("b")], new Set());
    expect(gone.rewrite).toEqual([{ name: files[1]!.name, runs: [] }]);
    expect(planParts(files, () => true, [run("a", null)], new Set()).add).toEqual([{ partition: "experiment_id=__HIVE_DEFAULT_PARTITION__", runs: ["a"] }]);
  });

  it("puts every current run in exactly one file, and never a run into a file that did not hold it", () => {
    const ids = fc.uniqueArray(fc.stringMatching(/^[a-f]{3}$/), { maxLength: 30 });
    fc.assert(
      fc.property(ids, fc.nat(10), fc.array(fc.boolean(), { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (runs, split, flags, perFile) => {
        const before = [file("experiment_id=x/part-0of1-000001.parquet", runs.slice(0, split)), file("experiment_id=x/part-0of1-000002.parquet", runs.slice(split, split * 2))];
        const current = runs.filter((_, i) => flags[i] !== false).map((r, i) => run(r, i % 3 === 0 ? "y" : "x"));
        const recompute = new Set(runs.filter((_, i) => i % 4 === 0));
        const plan = planParts(before, () => true, current, recompute, perFile);
        const placed = [...plan.keep.flatMap((f) => f.runs.map(([r]) => r)), ...plan.rewrite.flatMap((f) => f.runs), ...plan.add.flatMap((f) => f.runs)];
        expect(placed.sort()).toEqual(current.map((r) => r.runId).sort());
        for (const w of plan.rewrite) {
          const held = before.find((f) => f.name === w.name)!.runs.map(([r]) => r);
          for (const r of w.runs) expect(held).toContain(r);
        }
        for (const a of plan.add) expect(a.runs.length).toBeLessThanOrEqual(perFile);
      }),
    );
  });
});

describe("shards", () => {
  it("a run's shard depends only on its id (hyphens and case aside), and spreads runs over all shards", () => {
    expect(shardOf("0192A3B4-5C6D-7E8F-9A0B-1C2D3E4F5A6B", 7)).toBe(shardOf("0192a3b45c6d7e8f9a0b1c2d3e4f5a6b", 7));
    expect(shardOf("anything", 1)).toBe(0);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(i.toString(16).padStart(32, "0"), 4)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(850);
  });

  it("--shard is i/n with 0 ≤ i < n", () => {
    expect(parseShard("2/8")).toEqual({ index: 2, count: 8 });
    expect(parseShard(" 0 / 1 ")).toEqual({ index: 0, count: 1 });
    for (const bad of ["8/8", "1", "-1/2", "a/b", "0/0", "1/2/3"]) expect(() => parseShard(bad)).toThrow(/give i\/n/);
  });
});
