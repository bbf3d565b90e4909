import { expect } from "vitest";
import { runCli, type CliRun } from "../runCli.js";

/** Runs `panic-drift plot …` in-process and expects it to succeed (the stderr shown if not). */
export async function plot(args: string[]): Promise<CliRun> {
  const r = await runCli(["plot", ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r;
}
