"""Reference token ids and embeddings for the encoder test (core/tests/encoder_reference.rs).

Token ids come from HF `tokenizers` on the model's tokenizer.json, embeddings from the shared
numpy implementation of all-MiniLM-L6-v2 (../shared/tools/embeddings/embed.py), which
reproduces sentence-transformers' published similarities. The texts: the three sentences of
the sentence-transformers documentation, then real English texts from this machine's Debian
package lists (`apt-cache dumpavail`): short descriptions, and a few long texts made of 16
descriptions each, chosen deterministically (sorted by SHA-256 of the text), so every run on
the same lists checks the same texts.

Usage: python reference.py EMBED_PY MODEL_DIR OUT.json N_SHORT N_LONG
"""
import hashlib
import importlib.util
import json
import subprocess
import sys

embed_py, model_dir, out_path, n_short, n_long = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

spec = importlib.util.spec_from_file_location("embed", embed_py)
embed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(embed)

SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]

dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
short = {l[len("Description: "):].strip() for l in dump.splitlines() if l.startswith("Description: ")}
short = sorted((t for t in short if t), key=lambda t: hashlib.sha256(t.encode()).hexdigest())
if len(short) < n_short + 16 * n_long:
    sys.exit(f"only {len(short)} Debian descriptions found (apt-get update first?)")
# Long texts (about 100-200 tokens, some truncated at 256): 16 further descriptions joined.
texts = short[:n_short] + [
    ". ".join(short[n_short + 16 * i:n_short + 16 * (i + 1)]) for i in range(n_long)
]

emb = embed.Embedder(model_dir)
all_texts = SENTENCES + texts
ids = [emb.tok.encode(t).ids for t in all_texts]
vecs = emb.embed(all_texts)
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(
        {
            "sentences": len(SENTENCES),
            "items": [
                {"text": t, "ids": i, "embedding": [float(x) for x in v]}
                for t, i, v in zip(all_texts, ids, vecs)
            ],
        },
        f,
    )
lengths = sorted(len(i) for i in ids)
print(f"{len(all_texts)} texts, {sum(lengths)} tokens (median {lengths[len(lengths) // 2]}, max {lengths[-1]}) -> {out_path}")
