#!/usr/bin/env python3
"""Independent float64 oracle for panic-drift (shares no code with the product).

Reads a panic-tda SQLite database read-only, of the first generation (tables
run/invocation/embedding, type 'TEXT', 32-hex ids, naive timestamps) or the
second (runs/invocations/embeddings, type 'text', hyphenated ids, ISO 8601
timestamps with 'Z'), and prints one JSON line per output row, in output order
(run_id, embedding_model, sequence_number, id):

    python3 drift_oracle.py DB [--metric euclid|cosine] [--exclude TEXT ...]
                               [--no-exclude] [--prompt-vectors FILE.json]

Deliberately slow and simple: one row at a time, numpy float64.
"""
import argparse
import base64
import json
import re
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

BUILTIN_DIMS = {"Dummy": 768, "Dummy2": 768, "DummyText": 256, "DummyText2": 256}


def builtin_embedding(model, text):
    """Upstream's test embedders, verbatim in numpy (None for any other model)."""
    dim = BUILTIN_DIMS.get(model)
    if dim is None:
        return None
    if model in ("Dummy", "DummyText"):
        seed = sum(ord(c) for c in text)
        if seed > 2**32 - 1:  # numpy would raise: upstream could not have embedded it
            return None
        np.random.seed(seed)
        return np.random.rand(dim).astype(np.float32)
    chars = [ord(c) for c in text[:100]]
    chars = (chars + [0] * dim)[:dim]
    return (np.array(chars) / 255.0).astype(np.float32)


def load_prompt_vectors(path):
    """[{initial_prompt, embedding_model, vector}]; vector is a list or base64 float32 LE."""
    out = {}
    for item in json.loads(Path(path).read_text(encoding="utf-8")):
        vec = item["vector"]
        if isinstance(vec, str):
            vec = np.frombuffer(base64.b64decode(vec), dtype="<f4")
        out[(item["initial_prompt"], item["embedding_model"])] = np.asarray(vec, dtype=np.float64)
    return out


def hyphenate(uid):
    if uid is None:
        return None
    s = str(uid)
    if len(s) == 32:
        return f"{s[0:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:32]}"
    return s


TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def timestamp(value):
    """Naive UTC text with microseconds; an ISO 8601 offset (or Z) is moved to UTC."""
    if value is None:
        return None
    m = TS_RE.match(str(value))
    if not m:
        return str(value)
    micros = (m.group(3) or "").ljust(6, "0")[:6]
    zone = m.group(4)
    if zone is None or zone == "Z":
        return f"{m.group(1)} {m.group(2)}.{micros}"
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    local = datetime.strptime(f"{m.group(1)} {m.group(2)}", "%Y-%m-%d %H:%M:%S")
    utc = local - offset if zone[0] == "+" else local + offset
    return f"{utc.strftime('%Y-%m-%d %H:%M:%S')}.{micros}"


def network_text(value):
    if value is None:
        return None
    return "→".join(json.loads(value))


def drift(blob, ref, metric):
    if not isinstance(blob, bytes) or ref is None or len(blob) % 4 != 0:
        return None
    v = np.frombuffer(blob, dtype="<f4").astype(np.float64)
    r = np.asarray(ref, dtype=np.float64)
    if v.size != r.size or not np.all(np.isfinite(v)) or not np.all(np.isfinite(r)):
        return None
    nv = np.linalg.norm(v)
    nr = np.linalg.norm(r)
    if nv == 0 or nr == 0:
        return None
    if metric == "cosine":
        return float(1.0 - np.dot(v, r) / (nv * nr))
    return float(np.linalg.norm(v / nv - r / nr))


def row_vector(blob):
    """A row's vector as a reference, or None when it has none usable."""
    if not isinstance(blob, bytes) or len(blob) % 4 != 0:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float64)


QUERY = """
SELECT e.id, e.invocation_id, e.embedding_model, e.started_at, e.completed_at,
       i.run_id, i.sequence_number, i.model, i.output_text,
       r.initial_prompt, r.network, r.experiment_id, e.vector
FROM {embedding} e
JOIN {invocation} i ON i.id = e.invocation_id
JOIN {run} r ON r.id = i.run_id
WHERE i.type = '{text}'
ORDER BY i.run_id, e.embedding_model, i.sequence_number, e.id
"""

# (run, invocation, embedding tables, the type of a text invocation), per generation.
LAYOUTS = [("run", "invocation", "embedding", "TEXT"), ("runs", "invocations", "embeddings", "text")]


def layout_query(con):
    tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    found = [layout for layout in LAYOUTS if set(layout[:3]) <= tables]
    if len(found) != 1:
        sys.exit(f"drift_oracle.py: not exactly one panic-tda layout (tables: {sorted(tables)})")
    run, invocation, embedding, text = found[0]
    return QUERY.format(run=run, invocation=invocation, embedding=embedding, text=text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--metric", choices=["euclid", "cosine"], default="euclid")
    ap.add_argument("--exclude", nargs="+", default=None)
    ap.add_argument("--no-exclude", action="store_true")
    ap.add_argument("--prompt-vectors", default=None)
    ap.add_argument("--reference", choices=["prompt", "first", "previous"], default="prompt")
    ap.add_argument("--run", action="append", default=[])
    ap.add_argument("--experiment", action="append", default=[])
    ap.add_argument("--model", action="append", default=[])
    args = ap.parse_args()
    key = lambda v: v.replace("-", "").lower()
    runs, experiments, models = {key(r) for r in args.run}, {key(x) for x in args.experiment}, set(args.model)

    excluded = set() if args.no_exclude else set(args.exclude if args.exclude is not None else ["yeah", "nah"])
    file_refs = load_prompt_vectors(args.prompt_vectors) if args.prompt_vectors else {}
    refs = {}

    def reference(prompt, model):
        key = (prompt, model)
        if key not in refs:
            refs[key] = file_refs[key] if key in file_refs else builtin_embedding(model, prompt)
        return refs[key]

    db = Path(args.db).resolve()
    # Without a -wal there is nothing uncommitted to read, and immutable=1 then
    # leaves no -shm/-wal litter beside the file; with one, read it properly.
    immutable = "" if Path(str(db) + "-wal").exists() else "&immutable=1"
    con = sqlite3.connect(db.as_uri() + "?mode=ro" + immutable, uri=True)
    out = sys.stdout
    group, first_blob, previous_blob = None, None, None
    for row in con.execute(layout_query(con)):
        (eid, inv_id, model, started, completed, run_id, seq, text_model, text,
         prompt, network, exp_id, blob) = row
        if prompt in excluded:
            continue
        if (runs and key(run_id) not in runs) or (experiments and (exp_id is None or key(exp_id) not in experiments)) or (models and model not in models):
            continue
        # --reference first/previous: another row of the same run and model, in output order.
        if (run_id, model) != group:
            group, first_blob, previous_blob = (run_id, model), blob, None
        if args.reference == "prompt":
            ref = reference(prompt, model)
        else:
            ref = row_vector(first_blob if args.reference == "first" else previous_blob)
        previous_blob = blob
        out.write(json.dumps({
            "id": hyphenate(eid),
            "invocation_id": hyphenate(inv_id),
            "embedding_model": model,
            "started_at": timestamp(started),
            "completed_at": timestamp(completed),
            "run_id": hyphenate(run_id),
            "sequence_number": seq,
            "text_model": text_model,
            "text": text,
            "initial_prompt": prompt,
            "network": network_text(network),
            "experiment_id": hyphenate(exp_id),
            "semantic_drift": drift(blob, ref, args.metric),
        }) + "\n")
    con.close()


if __name__ == "__main__":
    main()
