"""Writes ffi/examples/data/debian-demo.bin, the small real dataset `make demo` searches.

Input: the cached real set of bench/data/prepare.sh (debian.txt + debian.npy, all-MiniLM-L6-v2
embeddings of Debian package descriptions). Output (committed, < 2 MB):

  - QUERIES: a few descriptions picked by hand (the demo's queries, not in the index);
  - for each, its NEIGHBOURS nearest descriptions in the whole corpus (so the hits mean
    something), plus FILL random others (so the index has plenty of distractors);
  - every vector as i8 with one f32 scale per vector (x ~= scale * q, scale = max|x| / 127).

Format, little-endian:
  b"FVDEMO01", u32 n_items, u32 n_queries, u32 dims,
  (n_items + n_queries) x (f32 scale, dims x i8)      items first, then queries,
  u32 text_bytes, UTF-8 texts joined by "\\n"          items first, then queries.

Deterministic: same input, same bytes. Usage (numpy needed, e.g. the prepare.sh venv):
  ~/.cache/ferrovec/venv-emb/bin/python bench/data/make_demo_set.py [DATA_DIR] [OUT]
"""
import os
import struct
import sys

import numpy as np

QUERIES = [
    "3D chess game with reflection of the chessmen",
    "PDF viewer with Vim-like behaviour",
    "Weather in your terminal, with ANSI colors and Unicode symbols",
    "simple image editor and drawing application",
    "Automated Password Generator - Standalone version",
    "small C compiler",
    "GTK+ client for the Music Player Daemon (MPD)",
    "General Python3 tools for astronomy",
]
NEIGHBOURS = 40
FILL = 3000
SEED = 20261123


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/ferrovec")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "ffi/examples/data/debian-demo.bin")
    texts = open(os.path.join(data, "debian.txt"), encoding="utf-8").read().split("\n")
    emb = np.load(os.path.join(data, "debian.npy"))
    texts = texts[: len(emb)]
    assert len(texts) == len(emb), (len(texts), len(emb))
    where = {t: i for i, t in enumerate(texts)}
    q_rows = [where[q] for q in QUERIES]

    chosen = []
    seen = set(q_rows)
    for r in q_rows:
        taken = 0
        for i in np.argsort(-(emb @ emb[r]), kind="stable"):
            if int(i) not in seen:
                chosen.append(int(i))
                seen.add(int(i))
                taken += 1
                if taken == NEIGHBOURS:
                    break
    rng = np.random.default_rng(SEED)
    for i in rng.permutation(len(emb)):
        if len(chosen) >= FILL:
            break
        if int(i) not in seen:
            chosen.append(int(i))
            seen.add(int(i))
    # Shuffle so the neighbours are not stored next to each other (keys carry no hint).
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]

    rows = chosen + q_rows
    dims = emb.shape[1]
    body = bytearray()
    for r in rows:
        x = emb[r].astype(np.float32)
        scale = float(np.abs(x).max()) / 127.0
        q = np.clip(np.rint(x / scale), -127, 127).astype(np.int8)
        body += struct.pack("<f", scale) + q.tobytes()
    text = "\n".join(texts[r] for r in rows).encode("utf-8")
    blob = b"FVDEMO01" + struct.pack("<III", len(chosen), len(q_rows), dims) + bytes(body)
    blob += struct.pack("<I", len(text)) + text
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(blob)
    print(f"{out}: {len(chosen)} items + {len(q_rows)} queries x {dims} dims, {len(blob)} bytes")


if __name__ == "__main__":
    main()
