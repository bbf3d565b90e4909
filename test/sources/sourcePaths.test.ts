import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourcePaths } from "../../src/sources/sourcePaths.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-paths-"));
  for (const name of ["b.sqlite", "a.sqlite", "a.sqlite-wal", "a.sqlite-shm", "a.drift.parquet", "runs [old].sqlite"]) writeFileSync(join(dir, name), "");
  mkdirSync(join(dir, "x_parquet"));
  symlinkSync(join(dir, "a.sqlite"), join(dir, "link.sqlite"));
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("sourcePaths", () => {
  it("expands globs in sorted order, leaving out SQLite's side files and frames, and counts an input named twice once", () => {
    expect(sourcePaths(["*.sqlite*", "a.sqlite", "*_parquet"], dir)).toEqual([join(dir, "a.sqlite"), join(dir, "b.sqlite"), join(dir, "runs [old].sqlite"), join(dir, "x_parquet")]);
  });

  it("passes a plain path through as given, even one with glob characters that exists, or a missing one (the source reports it)", () => {
    expect(sourcePaths(["runs [old].sqlite", "missing.sqlite"], dir)).toEqual(["runs [old].sqlite", "missing.sqlite"]);
  });

  it("a glob that matches nothing is an error", () => {
    expect(() => sourcePaths(["nothing/*.sqlite"], dir)).toThrow(/--db nothing\/\*\.sqlite matches no database or export directory/);
  });
});
