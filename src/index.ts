/** The library behind the CLI: everything a program needs to compute drift itself. */
export { computeDrift, defaultOutputPath, DEFAULT_EXCLUDED_PROMPTS } from "./pipeline.js";
export type { ComputeOptions, ComputeResult, ComputeHooks } from "./pipeline.js";
export { PanicDriftError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { METRICS } from "./kernel/metric.js";
export type { Metric } from "./kernel/metric.js";
export { NULL_REASONS } from "./kernel/nullReason.js";
export type { NullReason } from "./kernel/nullReason.js";
export { driftKernel } from "./kernel/driftKernel.js";
export { prepareReference } from "./kernel/preparedReference.js";
export { builtinEmbedding, BUILTIN_DIMENSIONS } from "./reference/builtinEmbedders.js";
export { readPromptVectorsFile } from "./reference/promptVectorsFile.js";
export { openSource } from "./sources/openSource.js";
export { VERSION } from "./version.js";
