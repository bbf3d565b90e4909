import { Command, CommanderError } from "./commander.js";
import { PanicDriftError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from "../common/errors.js";
import { VERSION } from "../common/version.js";
import { processIO, type CliIO } from "./cliIO.js";
import { computeCommand } from "./commands/compute.js";
import { promptsCommand } from "./commands/prompts.js";
import { summaryCommand } from "./commands/summary.js";
import { plotCommand } from "./commands/plot.js";
import { printError } from "./messages.js";
import { startCommandRun } from "./stopSignals.js";
import { runInterruptCleanup } from "../common/interruptCleanup.js";

/**
 * Runs the CLI on `argv` (process.argv layout) and returns the exit code.
 * Every failure becomes one line on stderr: 1 for anything about files and
 * data, 2 for a command line that cannot be parsed.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  // SIGINT/SIGTERM: compute stops through run.signal; the other commands end at once (see stopSignals.ts).
  const run = startCommandRun(io);
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
  program.addCommand(configure(computeCommand(io, run), io));
  program.addCommand(configure(promptsCommand(io), io));
  program.addCommand(configure(summaryCommand(io), io));
  program.addCommand(configure(plotCommand(io), io));

  const debug = argv.includes("--debug");
  // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported, instead of the signal killing us mid-file.
  if (!process.listeners("SIGXFSZ").includes(ignoreSignal)) process.on("SIGXFSZ", ignoreSignal);
  try {
    // A command that returns has succeeded; every failure is thrown.
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every usage error became a PanicDriftError in exitOverride.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT_OK;
      printError(io, usageMessage(error.message, "panic-drift"));
      return EXIT_USAGE;
    }
    if (error instanceof PanicDriftError && (error.code === "INTERRUPTED" || error.code === "TERMINATED")) {
      // Not an error: what the user asked for.
      io.stderr.write(`panic-drift: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof PanicDriftError) {
      printError(io, error.message);
      if (debug) io.stderr.write(stackTrace(error));
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    printError(io, `internal error: ${message.split("\n")[0]} (please report it; --debug shows the stack trace)`);
    if (debug && error instanceof Error) io.stderr.write(stackTrace(error));
    return EXIT_FAILURE;
  } finally {
    run.end();
  }
}

/**
 * The process's entry point: runs main on process.argv and ends the process
 * with its exit code. Ended through process.exit() rather than an emptied
 * event loop: on a natural exit Node closes its signal handles before it
 * tears down, and a SIGINT/SIGTERM in that window would kill a process whose
 * run had finished (a shell would read 130 over a new output); process.exit()
 * keeps the handlers to the end. It is safe here, where no DuckDB query can be
 * waiting for this thread any more (see stopSignals.ts). What a stopped run
 * left to a timer (the SIGKILL of an embedding command's leftover processes)
 * is done first.
 */
export async function runMain(argv: readonly string[]): Promise<never> {
  const code = await main(argv);
  runInterruptCleanup();
  process.exit(code);
}

/**
 * Settings every command needs: errors thrown (not process.exit), output
 * through `io`, and commander's usage errors as one line in our format
 * (printed by main, not by commander).
 */
function configure(command: Command, io: CliIO): Command {
  return command
    .exitOverride((error) => {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") throw error;
      throw new PanicDriftError("USAGE", usageMessage(error.message, commandPath(command), error.code === "commander.excessArguments" ? command.args : []), {
        cause: error,
      });
    })
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: () => {},
    });
}

function commandPath(command: Command): string {
  return command.parent === null ? command.name() : `panic-drift ${command.name()}`;
}

/**
 * One line from a commander message: `error: unknown option '--forc'\n(Did
 * you mean --force?)` → `unknown option '--forc' (did you mean --force?):
 * see panic-drift compute --help`. Arguments where only options are taken
 * (`compute runs.sqlite`) get the option they were meant for.
 */
export function usageMessage(message: string, command: string, operands: readonly string[] = []): string {
  const where = `see ${command} --help`;
  if (operands.length > 0) {
    const takes = /summary|plot/.test(command) ? `a frame as --in ${operands[0]} or a database as --db ${operands[0]}` : `the database as --db ${operands[0]}`;
    return `unexpected argument '${operands.join(" ")}': give ${takes} (options only); ${where}`;
  }
  const [first = "", ...rest] = message.replace(/^error: /, "").split("\n");
  const notes = rest.map((line) => line.trim()).filter((line) => line !== "").map((line) => ` ${line.replace(/^\((\w)/, (_, c: string) => `(${c.toLowerCase()}`)}`);
  const text = `${first}${notes.join("")}`
    .replace(/\.\s+([A-Za-z])/g, (_, c: string) => `: ${c.toLowerCase()}`)
    .replace(/\.$/, "");
  return `${text}; ${where}`;
}

function ignoreSignal(): void {}

/** The stack of `error` and of each of its causes (a thread's error carries the thread's stack as its cause). */
function stackTrace(error: Error): string {
  let trace = error.stack ? `${error.stack}\n` : "";
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) {
    if (cause.stack) trace += `caused by: ${cause.stack}\n`;
  }
  return trace;
}
