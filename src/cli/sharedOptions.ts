import type { Command } from "./commander.js";
import { usageError } from "../common/errors.js";
import type { SourceFilters } from "../sources/sourceFilters.js";
import { DEFAULT_EXCLUDED_PROMPTS } from "../compute/plan.js";
import type { CliIO } from "./cliIO.js";

/** --db, or $DATABASE_PATH; a usage error without either. */
export function databaseOption(db: string | undefined, io: CliIO): string {
  const found = db ?? nonEmpty(io.env.DATABASE_PATH);
  if (found === undefined) throw usageError("missing --db FILE (or set DATABASE_PATH)");
  return found;
}

/** The prompts to leave out, from --exclude-prompt (repeatable) and --no-exclude. */
export function excludedPrompts(excludePrompt: string[] | undefined, exclude: boolean): readonly string[] {
  if (excludePrompt !== undefined && !exclude) {
    throw usageError("--exclude-prompt and --no-exclude contradict each other: use one");
  }
  return exclude ? (excludePrompt ?? DEFAULT_EXCLUDED_PROMPTS) : [];
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** --exclude-prompt (repeatable) and --no-exclude, read back by excludedPrompts. */
export function withExclusionOptions(command: Command): Command {
  return command
    .option(
      "--exclude-prompt <text>",
      `leave out runs with this initial prompt; repeatable; replaces the default (${DEFAULT_EXCLUDED_PROMPTS.join(", ")})`,
      collect,
    )
    .option("--no-exclude", "leave out no runs at all");
}

/** --experiment, --run, --model (each repeatable), for every command that reads a database. */
export function withFilterOptions(command: Command): Command {
  return command
    .option("--experiment <id>", "only runs of this experiment (hyphens optional); repeatable", collect)
    .option("--run <id>", "only this run (hyphens optional); repeatable", collect)
    .option("--model <name>", "only embeddings by this embedding model; repeatable", collect);
}

export function filtersOption(flags: { experiment?: string[]; run?: string[]; model?: string[] }): SourceFilters {
  return { experiments: flags.experiment ?? [], runs: flags.run ?? [], models: flags.model ?? [] };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
