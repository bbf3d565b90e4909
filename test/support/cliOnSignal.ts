// Runs the CLI from source once a file appears: `cliOnSignal.ts <go file> <args…>`.
// Each process loads its modules, says it is ready (`<go file>.ready-<pid>`),
// then spins until the go file exists: several processes reach the same
// line of code together, to within a fraction of a millisecond, which is
// what a race between them needs.
import { existsSync, writeFileSync } from "node:fs";
import { main } from "../../src/cli/main.js";
import "../../src/compute/computeDrift.js";
import "../../src/compute/driftRun.js";

const go = process.argv[2]!;
writeFileSync(`${go}.ready-${process.pid}`, "");
while (!existsSync(go)) {
  /* spin: a timer would wake each process at a different moment */
}
process.exitCode = await main([process.argv[0]!, process.argv[1]!, ...process.argv.slice(3)]);
