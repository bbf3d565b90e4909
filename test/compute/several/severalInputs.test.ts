import Database from "better-sqlite3";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../../src/compute/computeDrift.js";
import { makePanicDb } from "../../support/makePanicDb.js";
import { makePanicExport } from "../../support/makePanicExport.js";
import { compareTables, duck } from "../../support/datasetInputs.js";
import { runCli } from "../../support/runCli.js";

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-several-"));
  mkdirSync(join(dir, "runs"));
  makePanicDb(join(dir, "runs", "a.sqlite"), { seed: 21, runs: 6 });
  makePanicDb(join(dir, "runs", "b.sqlite"), { seed: 22, runs: 6, layout: "gen2" });
  makePanicDb(join(dir, "e-source.sqlite"), { seed: 23, runs: 5 });
  await makePanicExport(join(dir, "e-source.sqlite"), join(dir, "e_parquet"));
}, 120_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("several inputs into one file", () => {
  it("holds every input's rows, as their single-input files do, in the output's order; --json counts each input", async () => {
    const inputs = [join(dir, "runs", "a.sqlite"), join(dir, "runs", "b.sqlite"), join(dir, "e_parquet")];
    const singles = [];
    for (const [i, db] of inputs.entries()) {
      const out = join(dir, `single-${i}.parquet`);
      await computeDrift({ db, out });
      singles.push(out);
    }
    const out = join(dir, "all.parquet");
    const run = await runCli(["compute", "--db", join(dir, "runs", "*.sqlite"), "--db", join(dir, "e_parquet"), "--out", out, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { rows: number; sources: { path: string; rows: number; runs: number }[] };
    expect(report.sources.map((s) => s.path)).toEqual(inputs);
    const union = `(SELECT * FROM read_parquet([${singles.map((s) => `'${s}'`).join(", ")}]))`;
    const compared = await compareTables(`read_parquet('${out}')`, union);
    expect(compared).toMatchObject({ onlyA: 0, onlyB: 0, rows: report.rows });
    expect(compared.typesA).toBe(compared.typesB);
    for (const [i, single] of singles.entries()) {
      const [{ n }] = (await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet('${single}')`)) as [{ n: number }];
      expect(report.sources[i]!.rows).toBe(n);
    }
    const inOrder = await duck(`SELECT id FROM read_parquet('${out}') ORDER BY run_id, embedding_model, sequence_number, id`);
    expect(await duck(`SELECT id FROM read_parquet('${out}')`)).toEqual(inOrder);
    // Nothing changed: up to date; the summary line names the inputs.
    const again = await runCli(["compute", "--db", join(dir, "runs", "*.sqlite"), "--db", join(dir, "e_parquet"), "--out", out]);
    expect(again.stderr).toMatch(/^panic-drift: up to date: .* 3 inputs\) checked in/);
    // Leaves nothing beside the output.
    expect(readdirSync(dir).filter((n) => n.includes(".work-") || n.endsWith(".lock"))).toEqual([]);
  }, 120_000);

  it("a run in two inputs is an error naming both, unless one is a byte-identical copy", async () => {
    const a = join(dir, "runs", "a.sqlite");
    const copy = join(dir, "copy.sqlite");
    copyFileSync(a, copy);
    const out = join(dir, "copies.parquet");
    const same = await computeDrift({ db: [a, copy], out });
    expect(same.warnings.some((w) => w.includes(`${copy} is a copy of ${a}`))).toBe(true);
    expect(same.sources).toHaveLength(1);
    const db = new Database(copy);
    db.prepare("DELETE FROM embedding WHERE rowid = (SELECT max(rowid) FROM embedding)").run();
    db.close();
    const run = await runCli(["compute", "--db", a, "--db", copy, "--out", join(dir, "clash.parquet")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^panic-drift: error: run [0-9a-f-]+ \\(and \\d+ more of its runs\\) is in both ${a} and ${copy}, which are not copies of one file: .*\\n$`));
    expect(existsSync(join(dir, "clash.parquet"))).toBe(false);
  }, 60_000);

  it.each(["file", "dataset"] as const)("into a %s: the same inputs named otherwise (relative, in another order), or with a copy beside them, are up to date", async (layout) => {
    const a = join(dir, "runs", "a.sqlite");
    const b = join(dir, "runs", "b.sqlite");
    const e = join(dir, "e_parquet");
    const copy = join(dir, `same-as-a-${layout}.sqlite`);
    copyFileSync(a, copy);
    const out = layout === "file" ? join(dir, "named.parquet") : join(dir, "named") + "/";
    const first = await computeDrift({ db: [a, b, e], out });
    expect(first.status).toBe("computed");
    const otherwise = await computeDrift({ db: [relative(process.cwd(), e), relative(process.cwd(), b), `${dir}/runs/../runs/a.sqlite`], out });
    expect(otherwise.status).toBe("up-to-date");
    // A copy joins: read once; then it is watched with the rest, and nothing is to do.
    const withCopy = await computeDrift({ db: [a, b, e, copy], out });
    expect(withCopy.warnings.some((w) => w.includes(`${copy} is a copy of ${a}`))).toBe(true);
    const again = await computeDrift({ db: [a, b, e, copy], out });
    expect(again.status).toBe("up-to-date");
    // The copy changes (no longer a copy): not up to date, and a clash.
    const db = new Database(copy);
    db.prepare("DELETE FROM embedding WHERE rowid = (SELECT max(rowid) FROM embedding)").run();
    db.close();
    await expect(computeDrift({ db: [a, b, e, copy], out })).rejects.toThrow(/is in both .*a\.sqlite and .*which are not copies of one file/);
  }, 120_000);

  it("a glob that matches nothing, or several inputs without --out, are errors", async () => {
    const none = await runCli(["compute", "--db", join(dir, "nothing-*.sqlite"), "--out", join(dir, "x.parquet")]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^panic-drift: error: --db .*nothing-\*\.sqlite matches no database or export directory .*quote it/);
    const noOut = await runCli(["compute", "--db", join(dir, "runs", "*.sqlite")]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/several inputs go to one output: give --out FILE\.parquet, or --out DIR\/ for a dataset/);
    const shardFile = await runCli(["compute", "--db", join(dir, "runs", "a.sqlite"), "--out", join(dir, "y.parquet"), "--shard", "0/2"]);
    expect(shardFile.code).toBe(2);
    expect(shardFile.stderr).toMatch(/--shard writes its share of a dataset/);
    const badShard = await runCli(["compute", "--db", join(dir, "runs", "a.sqlite"), "--out", `${dir}/ds/`, "--shard", "2/2"]);
    expect(badShard.code).toBe(2);
    expect(badShard.stderr).toMatch(/--shard.*0 ≤ i < n/);
  }, 60_000);
});
