#!/usr/bin/env python3
"""numpy baseline for `npm run bench`: what a competent researcher would write.

    python3 numpy_baseline.py DB OUT

One SQL scan, vectors copied into one float32 matrix per (model, dim), drift
vectorised in float64, the whole frame (13 columns) built in output order.
OUT gets `id<TAB>drift` per row in output order (repr of the float64, empty for
NULL): the bench compares it with panic-drift's parquet.
"""
import json
import sqlite3
import sys

import numpy as np

QUERY = """
SELECT e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at,
       i.run_id, i.sequence_number, i.model, i.output_text,
       r.initial_prompt, r.network, r.experiment_id, e.vector
FROM embedding e JOIN invocation i ON i.id = e.invocation_id JOIN run r ON r.id = i.run_id
WHERE i.type = 'TEXT' AND r.initial_prompt NOT IN ('yeah', 'nah')
"""
CHUNK = 32768  # rows per vectorised step: bounds float64 temporaries to ~200 MB


def reference(model, text):
    """Upstream's test embedders (Dummy/Dummy2), verbatim; None for other models."""
    if model == "Dummy":
        np.random.seed(sum(ord(c) for c in text))
        return np.random.rand(768).astype(np.float32)
    if model == "Dummy2":
        chars = ([ord(c) for c in text[:100]] + [0] * 768)[:768]
        return (np.array(chars) / 255.0).astype(np.float32)
    return None


def hyphenate(u):
    return f"{u[0:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}" if u is not None and len(u) == 32 else u


def main(db, out):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    cols = [[] for _ in range(12)]
    groups = {}  # (model, dim) -> [float32 blocks of CHUNK rows, rows used, frame row indices, prompts]
    n = 0
    for row in con.execute(QUERY):
        for c in range(12):
            cols[c].append(row[c])
        blob, model = row[12], row[2]
        if isinstance(blob, bytes) and len(blob) % 4 == 0 and len(blob) > 0:
            dim = len(blob) // 4
            g = groups.get((model, dim))
            if g is None:
                g = groups[(model, dim)] = [[], CHUNK, [], []]
            if g[1] == CHUNK:
                g[0].append(np.empty((CHUNK, dim), np.float32))
                g[1] = 0
            g[0][-1][g[1]] = np.frombuffer(blob, "<f4")
            g[1] += 1
            g[2].append(n)
            g[3].append(row[9])
        n += 1
    con.close()

    drift = np.full(n, np.nan)  # NaN = NULL; stays NULL for NULL / not-blob / bad-length / empty vectors
    for (model, dim), (blocks, _, rows, prompts) in groups.items():
        # Unit reference vectors per prompt; NaN rows for missing, zero or wrong-dimension ones (NULL drift).
        refs, ref_index = [], {}
        for p in dict.fromkeys(prompts):
            r = reference(model, p)
            r = None if r is None or r.size != dim else r.astype(np.float64)
            nr = 0.0 if r is None else np.linalg.norm(r)
            ref_index[p] = len(refs)
            refs.append(r / nr if nr > 0 else np.full(dim, np.nan))
        unit_refs = np.stack(refs)
        ri = np.fromiter((ref_index[p] for p in prompts), np.int64, len(prompts))
        rows = np.asarray(rows, np.int64)
        for b, block in enumerate(blocks):
            s, e = b * CHUNK, min((b + 1) * CHUNK, len(rows))
            v = block[: e - s].astype(np.float64)
            norms = np.linalg.norm(v, axis=1)  # inf/nan for non-finite vectors, 0 for zero vectors
            ok = np.isfinite(norms) & (norms > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.linalg.norm(v / norms[:, None] - unit_refs[ri[s:e]], axis=1)
            drift[rows[s:e]] = np.where(ok, np.minimum(d, 2.0), np.nan)

    # Sort: np.lexsort over the key columns (an ORDER BY in the SQL makes SQLite sort
    # every row with its vector blob in a temp b-tree, which is slower).
    order = np.lexsort((np.array(cols[0]), np.array(cols[6], np.int64), np.array(cols[2]), np.array(cols[5])))

    networks = {s: (None if s is None else "→".join(json.loads(s))) for s in set(cols[10])}
    frame = {
        "id": [hyphenate(cols[0][k]) for k in order],
        "invocation_id": [hyphenate(cols[1][k]) for k in order],
        "embedding_model": [cols[2][k] for k in order],
        "started_at": np.array(cols[3], "datetime64[us]")[order],
        "completed_at": np.array(cols[4], "datetime64[us]")[order],
        "run_id": [hyphenate(cols[5][k]) for k in order],
        "sequence_number": np.array(cols[6], np.int64)[order],
        "text_model": [cols[7][k] for k in order],
        "text": [cols[8][k] for k in order],
        "initial_prompt": [cols[9][k] for k in order],
        "network": [networks[cols[10][k]] for k in order],
        "experiment_id": [hyphenate(cols[11][k]) for k in order],
        "semantic_drift": drift[order],
    }
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{i}\t{'' if d != d else repr(d)}\n" for i, d in zip(frame["id"], frame["semantic_drift"].tolist()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
