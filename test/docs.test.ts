import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NULL_REASONS } from "../src/kernel/nullReason.js";
import { runCli } from "./support/runCli.js";

// Keeps the README and --help from drifting apart (as sqlite-utils' test_docs does).
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("opens with the two set-up commands, and .ci/run runs the same test command", () => {
    const setup = readme.indexOf("npm ci && npx panic-drift compute --db fixtures/demo.sqlite");
    expect(setup).toBeGreaterThan(-1);
    expect(readme.indexOf("\nnpm test\n")).toBeGreaterThan(setup);
    const ci = readFileSync(new URL("../.ci/run", import.meta.url), "utf8");
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it("documents every option of every command", async () => {
    const top = await runCli(["--help"]);
    const commands = [...top.stdout.matchAll(/^  (\w[\w-]*) \[options\]/gm)].map((m) => m[1]!);
    expect(commands).toContain("compute");
    for (const command of commands) {
      expect(readme).toContain(`panic-drift ${command}`);
      const help = await runCli([command, "--help"]);
      expect(help.stdout).toMatch(/Examples:/);
      const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
      expect(options.length).toBeGreaterThan(5);
      for (const option of options.filter((o) => o !== "--help")) expect(readme, option).toContain(`\`${option}`);
    }
  });

  it("explains every NULL reason", () => {
    for (const reason of NULL_REASONS) expect(readme).toContain(`| \`${reason}\` |`);
  });
});
