#!/usr/bin/env python3
"""Regenerate test/fixtures/embedder-vectors.json from panic-tda's own test embedders.

Runs the upstream Dummy / Dummy2 code verbatim (DummyText / DummyText2 are the
same code with EMBEDDING_DIM = 256) with numpy, so the TypeScript port can be
checked bit for bit. Only the fixture depends on Python; the product never does.

    python3 test/support/make_embedder_vectors.py
"""

import base64
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "embedder-vectors.json"


# --- upstream panic_tda/embeddings.py, verbatim apart from the dimension parameter ---

def make_dummy(EMBEDDING_DIM):
    def embed(contents):
        embeddings = []
        for content in contents:
            # For text, use the hash of the string to seed a deterministic vector
            seed = sum(ord(c) for c in content)
            np.random.seed(seed)

            # Generate a deterministic vector using the seeded random number generator
            vector = np.random.rand(EMBEDDING_DIM).astype(np.float32)
            embeddings.append(vector)

        # Reset the random seed to avoid affecting other code
        np.random.seed(None)
        return embeddings

    return embed


def make_dummy2(EMBEDDING_DIM):
    def embed(contents):
        embeddings = []
        for content in contents:
            # For text, create deterministic values based on character positions
            chars = [ord(c) for c in (content[:100] if len(content) > 100 else content)]
            # Pad or truncate to ensure we have enough values
            chars = (chars + [0] * EMBEDDING_DIM)[:EMBEDDING_DIM]
            # Normalize to 0-1 range
            vector = np.array(chars) / 255.0
            embeddings.append(vector.astype(np.float32))
        return embeddings

    return embed


MODELS = {
    "Dummy": (768, make_dummy(768)),
    "Dummy2": (768, make_dummy2(768)),
    "DummyText": (256, make_dummy(256)),
    "DummyText2": (256, make_dummy2(256)),
}

# --- inputs ---

MAX_CP = 0x10FFFF
# 3855 * 0x10FFFF + 0x10F0E == 2**32 - 1: the largest seed numpy accepts.
MAX_SEED_TEXT = chr(MAX_CP) * 3855 + chr(0x10F0E)
assert sum(map(ord, MAX_SEED_TEXT)) == 2**32 - 1
OVERFLOW_TEXT = MAX_SEED_TEXT + "\x01"  # seed 2**32: numpy raises ValueError

ASTRAL_THEN_ASCII = "🐱" * 60 + "x" * 50  # 110 code points, 170 UTF-16 units
EXACTLY_100 = "🚀" + "abcdefghij" * 9 + "123456789"
EXACTLY_101 = EXACTLY_100 + "Z"
assert len(ASTRAL_THEN_ASCII) == 110 and len(EXACTLY_100) == 100 and len(EXACTLY_101) == 101

TEXTS = [
    "",
    "a picture of a cat",
    "café déjà vu",
    "猫の写真",
    "🐱🚀 cat",
    ASTRAL_THEN_ASCII,
    EXACTLY_100,
    EXACTLY_101,
    "yeah",
    "A lone lighthouse keeper watches the storm roll in over the grey Atlantic, "
    "his lamp the only warm colour for a hundred miles.",
    MAX_SEED_TEXT,
    OVERFLOW_TEXT,
]

MT_SEEDS = [0, 1, 5489, 2**32 - 1]
# Indices into the raw output stream: the first block and both sides of two refills.
MT_INDICES = [0, 1, 2, 3, 4, 622, 623, 624, 625, 1247, 1248, 1249]


def f32_b64(vector):
    arr = np.asarray(vector)
    assert arr.dtype == np.float32, arr.dtype
    return base64.b64encode(arr.astype("<f4").tobytes()).decode("ascii")


def raw_uint32(seed, count):
    # Legacy RandomState.randint over the full uint32 range takes the
    # rng == 0xFFFFFFFF shortcut and returns genrand_int32 outputs unchanged.
    return np.random.RandomState(seed).randint(0, 2**32, size=count, dtype=np.uint32)


def main():
    # Sanity: the published MT19937 reference value for the default seed.
    assert int(raw_uint32(5489, 1)[0]) == 3499211612

    embeddings = []
    for text_index, text in enumerate(TEXTS):
        for model, (dim, embed) in MODELS.items():
            entry = {"text": text_index, "model": model, "dim": dim}
            try:
                (vector,) = embed([text])
            except ValueError as err:
                entry["error"] = f"ValueError: {err}"
            else:
                assert vector.shape == (dim,)
                entry["float32le"] = f32_b64(vector)
            embeddings.append(entry)

    mt = []
    for seed in MT_SEEDS:
        raw = raw_uint32(seed, max(MT_INDICES) + 1)
        samples = np.random.RandomState(seed).random_sample(5)
        # random_sample must be the 53-bit combination of consecutive raw outputs.
        for k, s in enumerate(samples):
            a, b = int(raw[2 * k]) >> 5, int(raw[2 * k + 1]) >> 6
            assert float(s) == (a * 67108864.0 + b) / 9007199254740992.0
        mt.append({
            "seed": seed,
            "uint32": {str(i): int(raw[i]) for i in MT_INDICES},
            "randomSample": [float(s).hex() for s in samples],
            "randomSampleRepr": [repr(float(s)) for s in samples],
        })

    seed_errors = {}
    for bad in (2**32, -1):
        try:
            np.random.seed(bad)
        except ValueError as err:
            seed_errors[str(bad)] = f"ValueError: {err}"
        else:
            seed_errors[str(bad)] = None
    np.random.seed(None)

    doc = {
        "generator": "test/support/make_embedder_vectors.py",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "texts": TEXTS,
        "embeddings": embeddings,
        "mt19937": mt,
        "seedErrors": seed_errors,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(embeddings)} embeddings)")


if __name__ == "__main__":
    main()
