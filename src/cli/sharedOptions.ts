import { PanicDriftError, EXIT_USAGE } from "../errors.js";
import { DEFAULT_EXCLUDED_PROMPTS } from "../pipeline.js";
import type { CliIO } from "./cliIO.js";

/** --db, or $DATABASE_PATH; a usage error without either. */
export function databaseOption(db: string | undefined, io: CliIO): string {
  const found = db ?? nonEmpty(io.env.DATABASE_PATH);
  if (found === undefined) throw new PanicDriftError("USAGE", "missing --db FILE (or set DATABASE_PATH)", { exitCode: EXIT_USAGE });
  return found;
}

/** The prompts to leave out, from --exclude-prompt (repeatable) and --no-exclude. */
export function excludedPrompts(excludePrompt: string[] | undefined, exclude: boolean): readonly string[] {
  if (excludePrompt !== undefined && !exclude) {
    throw new PanicDriftError("USAGE", "--exclude-prompt and --no-exclude contradict each other: use one", { exitCode: EXIT_USAGE });
  }
  return exclude ? (excludePrompt ?? DEFAULT_EXCLUDED_PROMPTS) : [];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
