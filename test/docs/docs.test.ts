import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { NULL_REASONS } from "../../src/kernel/nullReason.js";
import { runCli } from "../support/runCli.js";

// Keeps the README, docs/ and --help from drifting apart (as sqlite-utils' test_docs does).
// The repository: this file is test/docs/docs.test.ts.
const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const readme = read("README.md");
const cli = read("docs/cli.md");

/** The fenced blocks of one language in a markdown text. */
const blocks = (text: string, lang: string) => [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

describe("README", () => {
  it("opens with the two set-up commands, and .ci/run runs the same test command", () => {
    const setup = readme.indexOf("npm ci && npx panic-drift compute --db fixtures/demo.sqlite");
    expect(setup).toBeGreaterThan(-1);
    expect(setup).toBeLessThan(1000);
    expect(readme.indexOf("\nnpm test\n")).toBeGreaterThan(setup);
    const ci = read(".ci/run");
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it("is short (≤ 15 KB), and every file it or docs/ links to exists", () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15 * 1024);
    const texts: [string, string][] = [["", readme], ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f): [string, string] => ["docs/", read(`docs/${f}`)])];
    for (const [dir, text] of texts) {
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^https?:/.test(target!)) continue;
        expect(existsSync(join(root, dir, target!)), `${dir}… links to ${target}`).toBe(true);
      }
    }
  });

  it("never sends a reader outside the clone to npx", () => {
    for (const block of [...blocks(readme, "crontab"), ...blocks(readme, "make")]) expect(block).not.toMatch(/npx/);
  });
});

describe("docs/cli.md", () => {
  it("documents every option of every command", async () => {
    const top = await runCli(["--help"]);
    const commands = [...top.stdout.matchAll(/^ {2}(\w[\w-]*) \[options\]/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(["compute", "prompts", "summary", "plot"]));
    for (const command of commands) {
      expect(readme).toContain(`panic-drift ${command}`);
      expect(cli).toContain(`panic-drift ${command}`);
      const help = await runCli([command, "--help"]);
      expect(help.stdout).toMatch(/Examples:/);
      const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
      expect(options.length).toBeGreaterThan(5);
      for (const option of options.filter((o) => o !== "--help")) expect(cli, `${command} ${option}`).toContain(`\`${option}`);
    }
  });
});

describe("docs/output.md", () => {
  it("explains every NULL reason", () => {
    const output = read("docs/output.md");
    for (const reason of NULL_REASONS) expect(output).toContain(`| \`${reason}\` |`);
  });
});

describe("the README's install and unattended recipes, run as written outside the clone", () => {
  const scratch = mkdtempSync(join(tmpdir(), "panic-drift-recipes-"));
  afterAll(() => { rmSync(scratch, { recursive: true, force: true }); });
  const prefix = join(scratch, "prefix");
  const bin = join(prefix, "bin", "panic-drift");
  // What cron gives a job: a short PATH (with the directory of the node that
  // runs these tests, as a crontab that sets PATH has), no HOME, nothing of this shell.
  const cronEnv = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, LANG: "C.UTF-8" };
  const built = existsSync(join(root, "dist", "cli", "main.js"));

  it.runIf(built)("npm install -g --prefix DIR . links panic-drift from the clone, offline", () => {
    const install = readme.match(/^npm install -g --prefix ~\/\.local \.\s/m);
    expect(install, "the README shows the no-root install").not.toBeNull();
    execFileSync("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", "."], { cwd: root, stdio: "pipe", timeout: 180_000 });
    expect(statSync(bin).isFile()).toBe(true);
    const version = execFileSync(bin, ["--version"], { cwd: scratch, env: cronEnv, encoding: "utf8" });
    expect(version.trim()).toBe(JSON.parse(read("package.json")).version);
  });

  it.runIf(built)("the crontab line runs from another directory with cron's PATH", () => {
    const [crontab] = blocks(readme, "crontab");
    const line = crontab!.split("\n").find((l) => /^[*\d]/.test(l))!;
    const command = line.split(/\s+/).slice(5).join(" ");
    expect(command).toMatch(/^cd \/data\/exp && \/usr\/bin\/panic-drift compute --db runs\.sqlite/);
    const exp = join(scratch, "exp");
    execFileSync("mkdir", ["-p", exp]);
    copyFileSync(join(root, "fixtures", "demo.sqlite"), join(exp, "runs.sqlite"));
    const asInstalled = command.replace("/data/exp", exp).replace("/usr/bin/panic-drift", bin);
    for (let i = 0; i < 2; i++) {
      const r = spawnSync("/bin/sh", ["-c", asInstalled], { env: cronEnv, encoding: "utf8", timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
    }
    const log = readFileSync(join(exp, "drift.log"), "utf8").trimEnd().split("\n");
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^panic-drift: computed 928 rows, 924 with drift/);
    expect(log[1]).toMatch(/^panic-drift: up to date: /);
  });

  it.runIf(built)("the Makefile rule builds the frame once, then finds it up to date", () => {
    const [rule] = blocks(readme, "make");
    const dir = join(scratch, "make");
    execFileSync("mkdir", ["-p", dir]);
    copyFileSync(join(root, "fixtures", "demo.sqlite"), join(dir, "runs.sqlite"));
    writeFileSync(join(dir, "Makefile"), rule!);
    const env = { ...cronEnv, PATH: `${join(prefix, "bin")}:${cronEnv.PATH}` };
    const first = spawnSync("make", ["-s"], { cwd: dir, env, encoding: "utf8", timeout: 120_000 });
    expect(first.status, first.stderr).toBe(0);
    expect(existsSync(join(dir, "runs.drift.parquet"))).toBe(true);
    const second = spawnSync("make", [], { cwd: dir, env, encoding: "utf8", timeout: 120_000 });
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/is up to date/);
  });
});

/**
 * Every ```console block of the README and docs/: each `$ command` is run
 * as written (on a terminal, through `script`, in a scratch directory with
 * the demo fixture), and what it prints must be the lines shown under it,
 * timings and the scratch directory's path normalised. Each block starts
 * in a fresh directory holding fixtures/demo.sqlite.
 */
describe("console examples in README.md and docs/ print what they show", () => {
  const files = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  // The CLI from source (as the rest of the suite runs it), so that a stale dist/ cannot pass or fail this.
  const launcher = `'${process.execPath}' '${join(root, "node_modules", "tsx", "dist", "cli.mjs")}' '${join(root, "test", "support", "cliEntry.ts")}'`;
  const normalise = (text: string, scratch?: string) =>
    (scratch === undefined ? text : text.replaceAll(scratch, "/…"))
      .replace(/\b(in|checked in) \d+\.\d+ s\b/g, "$1 N s")
      .replace(/"seconds":\d+(\.\d+)?/g, '"seconds":N');

  /** What a terminal shows once the spinner's frames are overwritten: the text after each line's last carriage return (blank lines left out, on both sides). */
  const screen = (raw: string) =>
    raw
      // eslint-disable-next-line no-control-regex -- a terminal escape that moves to the line's start
      .replace(/\x1b\[(\d*G|2K|0?K)/g, "\r")
      // eslint-disable-next-line no-control-regex -- any other terminal escape
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
      .split(/\r?\n/)
      .map((line) => line.slice(line.lastIndexOf("\r") + 1).trimEnd())
      .filter((line) => line !== "");

  for (const file of files) {
    const examples = blocks(read(file), "console");
    if (examples.length === 0) continue;
    it(file, () => {
      // Each block is a session of its own, in a fresh directory.
      for (const block of examples) {
        const scratch = mkdtempSync(join(tmpdir(), "panic-drift-examples-"));
        try {
          execFileSync("mkdir", ["-p", join(scratch, "fixtures")]);
          copyFileSync(join(root, "fixtures", "demo.sqlite"), join(scratch, "fixtures", "demo.sqlite"));
          const steps = block.split(/^\$ /m).filter((s) => s.trim() !== "");
          for (const step of steps) {
            const [command, ...shown] = step.trimEnd().split("\n");
            const run = command!.replace(/^(npx )?panic-drift\b/, launcher);
            const r = spawnSync("script", ["-qec", `stty cols 100 rows 40; ${run}`, "/dev/null"], {
              cwd: scratch,
              env: { PATH: process.env.PATH, HOME: scratch, LANG: "C.UTF-8", NO_COLOR: "1", TERM: "dumb", TZ: "UTC" },
              encoding: "utf8",
              timeout: 120_000,
            });
            expect(r.status, `${file}: $ ${command}\n${r.stdout}${r.stderr}`).toBe(0);
            expect(normalise(screen(r.stdout).join("\n"), scratch), `${file}: $ ${command}`).toBe(normalise(screen(shown.join("\n")).join("\n")));
          }
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      }
    });
  }
});

describe("the README's DuckDB recipe", () => {
  it("runs as written on the demo frame (from the clone's root)", async () => {
    const [sql] = blocks(readme, "sql");
    const scratch = mkdtempSync(join(tmpdir(), "panic-drift-sql-"));
    try {
      execFileSync("mkdir", ["-p", join(scratch, "fixtures")]);
      copyFileSync(join(root, "fixtures", "demo.sqlite"), join(scratch, "fixtures", "demo.sqlite"));
      expect((await runCli(["compute", "--db", join(scratch, "fixtures", "demo.sqlite"), "--quiet"])).code).toBe(0);
      const { DuckDBInstance } = await import("@duckdb/node-api");
      const instance = await DuckDBInstance.create(":memory:");
      const connection = await instance.connect();
      await connection.run(`SET file_search_path = '${scratch}'`);
      const rows = (await connection.runAndReadAll(sql!.replace(/^--.*\n/gm, ""))).getRows();
      connection.closeSync();
      instance.closeSync();
      expect(rows).toHaveLength(6); // 3 networks × 2 models
      for (const row of rows) expect(Number(row[2])).toBeGreaterThan(0.5);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
