#!/usr/bin/env python3
"""numpy baseline for `npm run bench`: what a competent researcher would write.

    python3 numpy_baseline.py [--layout gen1|gen2] DB OUT

Reads either generation of panic-tda database, told apart by its tables (or
by --layout): gen1 (Python era: run/invocation/embedding, type 'TEXT', bare
32-hex ids, naive timestamps) or gen2 (Elixir era: runs/invocations/embeddings,
type 'text', hyphenated ids, ISO timestamps with Z, the image blob stored before
type/model/id in each invocation row).

One SQL scan, vectors copied into float32 matrices per (model, dim), drift
vectorised in float64, the whole frame (13 columns) built in output order.
OUT gets `id<TAB>drift` per row in output order (repr of the float64, empty for
NULL): the bench compares it with panic-drift's parquet.
"""
import json
import sqlite3
import sys

import numpy as np

LAYOUTS = {
    # tables (run, invocation, embedding), the text-invocation condition, the timestamp expression
    "gen1": (("run", "invocation", "embedding"), "i.type = 'TEXT'", "{}"),
    # `output_image IS NULL` first: SQLite decides it from the record header, whereas
    # reading `type` (stored after the image) on an image row walks the blob's overflow
    # pages. The trailing Z goes in SQL (numpy warns on timezone suffixes; they are all UTC).
    "gen2": (("runs", "invocations", "embeddings"), "i.output_image IS NULL AND i.type = 'text'", "rtrim({}, 'Z')"),
}

QUERY = """
SELECT e.id, e.invocation_id, e.embedding_model, {started}, {completed},
       i.run_id, i.sequence_number, i.model, i.output_text,
       r.initial_prompt, r.network, r.experiment_id, e.vector
FROM {embedding} e JOIN {invocation} i ON i.id = e.invocation_id JOIN {run} r ON r.id = i.run_id
WHERE {text} AND r.initial_prompt NOT IN ('yeah', 'nah')
ORDER BY i.run_id, e.embedding_model, i.sequence_number, e.id
"""
# Sorting in SQL is faster than np.lexsort afterwards (measured: free vs ~0.25 s on
# 200k rows): SQLite walks the invocations' run_id index and only sorts within each run.


def detect_layout(con):
    """The layout whose three tables are all there; an error if neither or both."""
    tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    found = [name for name, (t, _, _) in LAYOUTS.items() if set(t) <= tables]
    if len(found) != 1:
        sys.exit(f"numpy_baseline: cannot tell the database's layout (complete table sets: {found or 'none'}); pass --layout")
    return found[0]


def query(layout):
    (run, invocation, embedding), text, timestamp = LAYOUTS[layout]
    return QUERY.format(
        started=timestamp.format("e.started_at"),
        completed=timestamp.format("e.completed_at"),
        run=run,
        invocation=invocation,
        embedding=embedding,
        text=text,
    )

# Rows per matrix block and vectorised step. Small enough (25 MB of float64 at
# 768-d) for malloc to reuse the temporaries instead of mapping fresh pages.
CHUNK = 4096


def reference(model, text):
    """Upstream's test embedders (Dummy/Dummy2), verbatim; None for other models."""
    if model == "Dummy":
        np.random.seed(sum(ord(c) for c in text))
        return np.random.rand(768).astype(np.float32)
    if model == "Dummy2":
        chars = ([ord(c) for c in text[:100]] + [0] * 768)[:768]
        return (np.array(chars) / 255.0).astype(np.float32)
    return None


def drift_of(v, unit_refs):
    """Euclidean drift of the float64 rows `v` (scaled in place) from their unit references; NaN for NULL."""
    norms = np.sqrt(np.einsum("ij,ij->i", v, v))  # inf/nan for non-finite vectors, 0 for zero vectors
    ok = np.isfinite(norms) & (norms > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        v /= norms[:, None]
        v -= unit_refs
        d = np.sqrt(np.einsum("ij,ij->i", v, v))
    return np.where(ok, np.minimum(d, 2.0), np.nan)


def hyphenate(u):
    """Bare 32-hex ids (gen1) hyphenated 8-4-4-4-12; hyphenated ones (gen2) pass through."""
    return f"{u[0:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}" if u is not None and len(u) == 32 else u


def main(db, out, layout=None):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    sql = query(layout or detect_layout(con))
    meta = []  # the frame's 12 source columns, one tuple per row
    groups = {}  # (model, dim) -> [float32 blocks of CHUNK rows, rows used in the last, frame row indices, prompts]
    for row in con.execute(sql):
        blob = row[12]
        if type(blob) is bytes and len(blob) % 4 == 0 and len(blob) > 0:
            g = groups.get((row[2], len(blob) // 4))
            if g is None:
                g = groups[(row[2], len(blob) // 4)] = [[], CHUNK, [], []]
            if g[1] == CHUNK:
                g[0].append(np.empty((CHUNK, len(blob) // 4), np.float32))
                g[1] = 0
            g[0][-1][g[1]] = np.frombuffer(blob, "<f4")
            g[1] += 1
            g[2].append(len(meta))
            g[3].append(row[9])
        meta.append(row[:12])
    con.close()
    n = len(meta)
    cols = list(zip(*meta)) if n else [()] * 12
    del meta

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
            drift[rows[s:e]] = drift_of(block[: e - s].astype(np.float64), unit_refs[ri[s:e]])

    networks = {s: (None if s is None else "→".join(json.loads(s))) for s in set(cols[10])}
    frame = {  # rows already in output order (ORDER BY)
        "id": [hyphenate(u) for u in cols[0]],
        "invocation_id": [hyphenate(u) for u in cols[1]],
        "embedding_model": list(cols[2]),
        "started_at": np.array(cols[3], "datetime64[us]"),
        "completed_at": np.array(cols[4], "datetime64[us]"),
        "run_id": [hyphenate(u) for u in cols[5]],
        "sequence_number": np.array(cols[6], np.int64),
        "text_model": list(cols[7]),
        "text": list(cols[8]),
        "initial_prompt": list(cols[9]),
        "network": [networks[s] for s in cols[10]],
        "experiment_id": [hyphenate(u) for u in cols[11]],
        "semantic_drift": drift,
    }
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{i}\t{'' if d != d else repr(d)}\n" for i, d in zip(frame["id"], frame["semantic_drift"].tolist()))


def run_cli(entry, script):
    """`script [--layout gen1|gen2] DB OUT` → entry(DB, OUT, layout or None)."""
    args = sys.argv[1:]
    chosen = None
    if len(args) == 4 and args[0] == "--layout" and args[1] in LAYOUTS:
        chosen, args = args[1], args[2:]
    if len(args) != 2:
        sys.exit(f"usage: {script} [--layout gen1|gen2] DB OUT")
    entry(args[0], args[1], chosen)


if __name__ == "__main__":
    run_cli(main, "numpy_baseline.py")
