import { extname } from "node:path";
import { Command, Option } from "../commander.js";
import { usageError } from "../../common/errors.js";
import type { CliIO } from "../cliIO.js";
import { EXIT_CODES } from "../exitCodes.js";
import { databaseOption, excludedPrompts, filtersOption, withExclusionOptions, withFilterOptions } from "../sharedOptions.js";

const FORMATS = ["csv", "json", "parquet"] as const;
type Format = (typeof FORMATS)[number];

interface PromptsFlags {
  db?: string;
  out?: string;
  format?: Format;
  promptVectors?: string;
  referenceCache?: string;
  excludePrompt?: string[];
  experiment?: string[];
  run?: string[];
  model?: string[];
  exclude: boolean;
  overwrite?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

const EXAMPLES = `
Examples:
  $ panic-drift prompts --db runs.sqlite
      CSV on stdout: initial_prompt, embedding_model, resolved_by, rows
  $ panic-drift prompts --db runs.sqlite --out pairs.csv
  $ panic-drift prompts --db runs.sqlite --format json | jq '.[] | select(.resolved_by == null)'
      the pairs nothing resolves yet: embed them, then
  $ panic-drift compute --db runs.sqlite --prompt-vectors vectors.parquet

resolved_by: file (--prompt-vectors), stored (a parquet export's prompt rows),
builtin (panic-tda's test embedders), cache (the reference cache of
--embed-cmd/--embed-url), or empty (null in JSON).
${EXIT_CODES}`;

/** `panic-drift prompts`: the (prompt, model) pairs compute needs reference vectors for. */
export function promptsCommand(io: CliIO): Command {
  return withExclusionOptions(withFilterOptions(new Command("prompts")))
    .description("list the (initial_prompt, embedding_model) pairs compute needs reference vectors for")
    .option("--db <file>", "experiment database (default: $DATABASE_PATH)")
    .option("--out <file>", "write the list to this file (default: stdout)")
    .addOption(new Option("--format <format>", "csv, json or parquet (default: from --out's extension, else csv)").choices(FORMATS))
    .option("--prompt-vectors <file>", "mark the pairs this file resolves (as compute --prompt-vectors)")
    .option("--reference-cache <file>", "mark the pairs this reference cache holds (default: the one beside compute's default output)")
    .option("--overwrite", "replace --out even if it holds a file panic-drift did not write (never an input)")
    .option("-q, --quiet", "no summary line")
    .option("--debug", "show stack traces on errors")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: PromptsFlags) => {
      const db = databaseOption(flags.db, io);
      const exclude = excludedPrompts(flags.excludePrompt, flags.exclude);
      const format = flags.format ?? formatFromPath(flags.out) ?? "csv";
      if (format === "parquet" && flags.out === undefined) {
        throw usageError("--format parquet needs --out FILE (parquet is not written to a terminal)");
      }
      const { listPrompts, promptsInputs } = await import("../../compute/listPrompts.js");
      const { guardOutput } = await import("../../sink/outputGuard.js");
      const policy = {
        kind: "prompts table",
        label: "--out",
        remedy: "choose another --out",
        inputs: promptsInputs({ db, promptVectors: flags.promptVectors, referenceCache: flags.referenceCache }),
        overwrite: flags.overwrite === true,
      } as const;
      // Before the database is read: never over an input, nor over a file panic-drift did not write.
      if (flags.out !== undefined) guardOutput(flags.out, policy, { place: false });
      const { renderTable, writeTableFile } = await import("../../sink/tableFile.js");
      const pairs = await listPrompts({
        db,
        ...(flags.promptVectors === undefined ? {} : { promptVectors: flags.promptVectors }),
        ...(flags.referenceCache === undefined ? {} : { referenceCache: flags.referenceCache }),
        excludePrompts: exclude,
        filters: filtersOption(flags),
      });
      const columns = [
        { name: "initial_prompt", type: "VARCHAR" },
        { name: "embedding_model", type: "VARCHAR" },
        { name: "resolved_by", type: "VARCHAR" },
        { name: "rows", type: "BIGINT" },
      ] as const;
      // Nothing resolves it yet: an empty field (NULL), not a quoted empty string.
      const rows = pairs.map((p) => [p.initial_prompt, p.embedding_model, p.resolved_by === "" ? null : p.resolved_by, p.rows]);
      if (flags.out !== undefined) await writeTableFile(flags.out, format, columns, rows, policy);
      else io.stdout.write(await renderTable(format as Exclude<Format, "parquet">, columns, rows));
      if (flags.quiet !== true) {
        const open = pairs.filter((p) => p.resolved_by === "").length;
        io.stderr.write(`panic-drift: ${pairs.length} pairs, ${open} without a reference vector${flags.out === undefined ? "" : ` → ${flags.out}`}\n`);
      }
    });
}

function formatFromPath(path: string | undefined): Format | undefined {
  const extension = path === undefined ? "" : extname(path).slice(1).toLowerCase();
  return (FORMATS as readonly string[]).includes(extension) ? (extension as Format) : undefined;
}
