#!/usr/bin/env python3
"""The leanest numpy peer: the drift column alone, streamed.

    python3 numpy_drift_only.py [--layout gen1|gen2] DB OUT

Not a bench row: a measure of how fast numpy can be when it skips what the
frame needs. One join (id, initial prompt, model, vector; no ORDER BY),
fetched 4,096 rows at a time so memory stays flat, drift vectorised per
(model, dimension) within each chunk, exactly as numpy_baseline.py computes
it. OUT gets `id<TAB>drift` per row in scan order (not the output order).
"""
import sqlite3

import numpy as np

from numpy_baseline import LAYOUTS, detect_layout, drift_of, hyphenate, reference, run_cli

QUERY = """
SELECT e.id, r.initial_prompt, e.embedding_model, e.vector
FROM {embedding} e JOIN {invocation} i ON i.id = e.invocation_id JOIN {run} r ON r.id = i.run_id
WHERE {text} AND r.initial_prompt NOT IN ('yeah', 'nah')
"""
CHUNK = 4096


def main(db, out, layout=None):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (run, invocation, embedding), text, _ = LAYOUTS[layout or detect_layout(con)]
    cursor = con.execute(QUERY.format(run=run, invocation=invocation, embedding=embedding, text=text))
    units = {}  # (prompt, model, dim) -> unit reference vector (NaN when there is none)
    with open(out, "w", encoding="utf-8") as f:
        while rows := cursor.fetchmany(CHUNK):
            drift = np.full(len(rows), np.nan)
            groups = {}  # (model, dim) -> row indices with a usable blob
            for k, row in enumerate(rows):
                blob = row[3]
                if type(blob) is bytes and len(blob) % 4 == 0 and len(blob) > 0:
                    groups.setdefault((row[2], len(blob) // 4), []).append(k)
            for (model, dim), ks in groups.items():
                refs = []
                for k in ks:
                    key = (rows[k][1], model, dim)
                    if key not in units:
                        r = reference(model, rows[k][1])
                        r = None if r is None or r.size != dim else r.astype(np.float64)
                        nr = 0.0 if r is None else np.linalg.norm(r)
                        units[key] = r / nr if nr > 0 else np.full(dim, np.nan)
                    refs.append(units[key])
                v = np.frombuffer(b"".join(rows[k][3] for k in ks), "<f4").reshape(len(ks), dim).astype(np.float64)
                drift[ks] = drift_of(v, np.stack(refs))
            f.writelines(f"{hyphenate(row[0])}\t{'' if d != d else repr(d)}\n" for row, d in zip(rows, drift.tolist()))
    con.close()


if __name__ == "__main__":
    run_cli(main, "numpy_drift_only.py")
