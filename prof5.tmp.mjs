import { openSource } from "./dist/sources/openSource.js";
import { workerDriftStream } from "./dist/parallel/workerDriftStream.js";
const src = openSource(process.argv[2]);
const t0 = performance.now();
const stream = await workerDriftStream(src, { excludePrompts: new Set(), batchRows: 2048, metric: "euclid", lookup: () => undefined, workers: 2, fileVectors: [] });
console.error("started", ((performance.now() - t0) / 1000).toFixed(2));
let n = 0;
for await (const { batch } of stream.batches()) n += batch.numRows;
console.error(n, "total", ((performance.now() - t0) / 1000).toFixed(2));
