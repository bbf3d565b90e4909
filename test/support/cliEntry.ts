// Runs the CLI from source in a child process (for tests that need another uid or a real signal).
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv);
