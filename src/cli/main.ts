import { Command, CommanderError } from "./commander.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, PanicDriftError } from "../errors.js";
import { VERSION } from "../version.js";
import { processIO, type CliIO } from "./cliIO.js";
import { computeCommand } from "./computeCommand.js";
import { promptsCommand } from "./promptsCommand.js";
import { summaryCommand } from "./summaryCommand.js";
import { plotCommand } from "./plotCommand.js";
import { printError } from "./messages.js";

/**
 * Runs the CLI on `argv` (process.argv layout) and returns the exit code.
 * Every failure becomes one line on stderr: 1 for anything about files and
 * data, 2 for a command line that cannot be parsed.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let exitCode = EXIT_OK;
  const program = configure(new Command("panic-drift"), io)
    .description("Semantic drift for panic-tda experiment databases, in one streaming pass, into a cached parquet file.")
    .version(VERSION, "-V, --version")
    .addHelpText(
      "after",
      `
Examples:
  $ panic-drift compute --db experiment.sqlite
  $ panic-drift prompts --db experiment.sqlite
  $ panic-drift summary --db experiment.sqlite
  $ panic-drift plot --db experiment.sqlite --out drift.svg
  $ panic-drift compute --help`,
    );
  program.addCommand(configure(computeCommand(io, (code) => (exitCode = code)), io));
  program.addCommand(configure(promptsCommand(io, (code) => (exitCode = code)), io));
  program.addCommand(configure(summaryCommand(io, (code) => (exitCode = code)), io));
  program.addCommand(configure(plotCommand(io, (code) => (exitCode = code)), io));

  const debug = argv.includes("--debug");
  // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported, instead of the signal killing us mid-file.
  if (!process.listeners("SIGXFSZ").includes(ignoreSignal)) process.on("SIGXFSZ", ignoreSignal);
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is usage.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT_OK;
      if (error.code === "commander.help") return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof PanicDriftError) {
      printError(io, error.message);
      if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    printError(io, `internal error: ${message.split("\n")[0]} (please report it; --debug shows the stack trace)`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}

/** Settings every command needs: errors thrown (not process.exit), output through `io`. */
function configure(command: Command, io: CliIO): Command {
  return command
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    });
}

function ignoreSignal(): void {}
