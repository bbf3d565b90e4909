import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Starts a worker thread from `compiled`, a `.js` module beside the caller
 * (dist/). Run from source (the tests), there is none: the `.ts` file beside
 * it is loaded through tsx instead.
 */
export function startThread(compiled: URL, options: WorkerOptions): Worker {
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const api = import.meta.resolve("tsx/esm/api");
  const source = compiled.href.replace(/\.js$/, ".ts");
  const bootstrap = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
