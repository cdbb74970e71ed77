#!/usr/bin/env bash
# The real benchmark set of issue 4, produced offline and cached OUTSIDE git, idempotently:
# every step is skipped when its output already exists, so a second run takes seconds.
#
#   $DATA/debian.txt    ~60k unique Debian package short descriptions (apt-cache dumpavail)
#   $DATA/debian.npy    their all-MiniLM-L6-v2 embeddings, (n, 384) f32, unit rows, by
#                       ferrovec's own encoder (ffi/examples/embed_file.rs; 82 s on 2
#                       cores the first time, 2026-12-05; the model from `make model`)
#   $DATA/debian-{base,queries,rows,gt,gt-dist}.npy
#                       1,000 held-out queries (deterministic: rows ordered by a splitmix64
#                       hash), the base without them, exact top-100 by cosine (f64), written
#                       by `cargo run -p ferrovec-bench --bin prepare`
#
# DATA is $FERROVEC_DATA, else ~/.cache/ferrovec. The model directory is
# $FERROVEC_MINILM_DIR, else $DATA/models/all-minilm-l6-v2 (`make model`). debian_corpus.py
# (only when debian.txt is missing) is looked up in $FERROVEC_EMBED_TOOLS, else
# ../shared/tools/embeddings next to the repository; it needs python3 and apt lists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FERROVEC_DATA:-$HOME/.cache/ferrovec}"
TOOLS="${FERROVEC_EMBED_TOOLS:-$ROOT/../shared/tools/embeddings}"
CARGO="${CARGO:-cargo}"
MODEL="${FERROVEC_MINILM_DIR:-$DATA/models/all-minilm-l6-v2}"
mkdir -p "$DATA"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -s "$DATA/debian.npy" ]; then
    # The texts: every unique short description apt knows about.
    if [ ! -s "$DATA/debian.txt" ]; then
        [ -f "$TOOLS/debian_corpus.py" ] || {
            echo "prepare: $DATA/debian.txt is missing and debian_corpus.py is not in $TOOLS" >&2
            echo "         (set FERROVEC_EMBED_TOOLS to the directory holding it)" >&2
            exit 1
        }
        if [ "$(apt-cache dumpavail | grep -c '^Description: ' || true)" -lt 10000 ]; then
            sudo_ apt-get update -qq
        fi
        python3 "$TOOLS/debian_corpus.py" "$DATA/debian.partial.txt"
        mv "$DATA/debian.partial.txt" "$DATA/debian.txt"
    fi

    # Embedded by ferrovec's own encoder on every core (ffi/examples/embed_file.rs; 82 s for
    # 60k descriptions on 2 cores on 2026-12-05, where the numpy reference took 15-25 min).
    [ -f "$MODEL/model.safetensors" ] || {
        echo "prepare: no all-MiniLM-L6-v2 in $MODEL: run \`make model\` (or set FERROVEC_MINILM_DIR)" >&2
        exit 1
    }
    echo "prepare: embedding $(grep -c . "$DATA/debian.txt") descriptions with ferrovec's encoder (log: $DATA/embed.log)"
    (cd "$ROOT" && "$CARGO" run --release --quiet --locked -p ferrovec --example embed_file -- \
        "$MODEL" "$DATA/debian.txt" "$DATA/debian.partial.npy") > "$DATA/embed.log" 2>&1 \
        || { tail -5 "$DATA/embed.log" >&2; exit 1; }
    tail -1 "$DATA/embed.log"
    mv "$DATA/debian.partial.npy" "$DATA/debian.npy"
fi

# Split + exact ground truth (the prepare binary skips this when the cache is consistent).
cd "$ROOT"
"$CARGO" run --release --quiet --locked -p ferrovec-bench --bin prepare -- "$DATA"
