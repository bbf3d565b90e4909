import { openSource } from "./dist/sources/openSource.js";
import { localDriftStream } from "./dist/driftStream.js";
import { ReferenceResolver } from "./dist/reference/referenceResolver.js";
const src = openSource(process.argv[2]);
const resolver = new ReferenceResolver([]);
const stream = localDriftStream(src, { excludePrompts: new Set(), batchRows: 2048, metric: "euclid", lookup: (p) => resolver.resolve(p)?.vector });
let n = 0; const t = performance.now();
for await (const { batch } of stream.batches()) n += batch.numRows;
console.log(n, ((performance.now() - t) / 1000).toFixed(2));
