#!/usr/bin/env python3
"""Tokenizer parity: ferrovec's WordPiece tokenizer against HF `tokenizers` (make test-tokenizer).

Builds a corpus of real strings (Debian package descriptions from `apt-cache dumpavail`, the
translated AppStream names, summaries and descriptions in /var/lib/apt/lists/*dep11*) plus
generated ones that hit every class of the Unicode tables (gen_tables.py), combining-mark
orderings, every code point (64 per text), long words, special tokens, truncation and invalid
UTF-8 (sent as raw bytes to ferrovec's `encode_bytes`, decoded with 'replace' for HF). Runs the
Rust example `tokenize` and HF `tokenizers` on it under several normalizer settings, compares
the token ids and the normalized words WordPiece sees, and fails on the first mismatches,
showing the text, both id lists and both token lists.

`--bench S` instead measures both on one thread over the real texts (tokens/s).
"""
import argparse
import glob
import gzip
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import Tokenizer  # noqa: E402
from tokenizers.normalizers import BertNormalizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = os.path.join(HERE, "..", "..", "core", "src", "encoder", "tokenizer", "tables.rs")


# ------------------------------------------------------------------------------ real texts

def debian_descriptions(limit, rng):
    """Short and long description lines of the Debian packages apt knows."""
    out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, check=True).stdout
    text = out.decode("utf-8", "replace")
    short, long_ = set(), set()
    for line in text.split("\n"):
        if line.startswith("Description: "):
            short.add(line[len("Description: "):])
        elif line.startswith(" ") and len(line) > 3 and line.strip() != ".":
            long_.add(line[1:])
    short, long_ = sorted(short), sorted(long_)
    rng.shuffle(short)
    rng.shuffle(long_)
    half = limit // 2
    return short[:half] + long_[:limit - half]


LOCALE = re.compile(r"^( +)([a-zA-Z]{1,3}(?:_[A-Za-z]{2,4})?(?:@[a-z]+)?): ?(.*)$")


def unquote(v):
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"':
        try:
            return bytes(v[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return v[1:-1]
    return v


def appstream_strings(limit, rng):
    """Translated Name / Summary / Description strings of the AppStream metadata, by language."""
    by_lang = {}
    for path in sorted(glob.glob("/var/lib/apt/lists/*dep11_Components-*.yml.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        section = None
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if line and not line.startswith(" "):
                section = line.split(":", 1)[0]
                continue
            if section not in ("Name", "Summary", "Description"):
                continue
            m = LOCALE.match(line)
            if not m:
                continue
            indent, lang, value = len(m.group(1)), m.group(2), m.group(3)
            if value in (">-", "|-", ">", "|", "|+", ">+"):
                block = []
                while i < len(lines) and (lines[i].startswith(" " * (indent + 1)) or lines[i] == ""):
                    block.append(lines[i].strip())
                    i += 1
                value = ("\n" if value.startswith("|") else " ").join(block).strip()
            else:
                value = unquote(value)
            if value:
                by_lang.setdefault(lang, set()).add(value)
    langs = sorted(by_lang)
    pools = {l: sorted(by_lang[l]) for l in langs}
    for l in langs:
        rng.shuffle(pools[l])
    out, k = [], 0
    # Round-robin over the languages, so the rare ones are all in.
    while len(out) < limit and any(k < len(p) for p in pools.values()):
        for l in langs:
            if k < len(pools[l]) and len(out) < limit:
                out.append(pools[l][k])
        k += 1
    return out, langs


# ------------------------------------------------------------------------------ generated

def tables(path=TABLES):
    """The body of every static table in tables.rs, by name."""
    text = open(path, encoding="utf-8").read()
    return dict(re.findall(r"static (\w+): \[[^=]*\] = \[\n(.*?)\n\];", text, re.S))


def packed_ranges(body):
    """gen_tables.py's packed ranges (start << 11 | flag << 10 | end - start): ([(start, end)],
    [flag])."""
    vals = [int(v, 16) for v in re.findall(r"0x([0-9A-F]+)", body)]
    return [(v >> 11, (v >> 11) + (v & 0x3FF)) for v in vals], [v >> 10 & 1 for v in vals]


def table_ranges():
    """Every (start, end) range of every table in tables.rs, and the single code points."""
    text = open(TABLES, encoding="utf-8").read()
    t = tables()
    ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\(0x([0-9A-F]+), 0x([0-9A-F]+)\)", text)]
    # Packed ranges: as they are, with the nonspacing marks' runs also merged as one table and
    # the starters (flag) as another, the tables they were before they were packed.
    for name in ("PUNCTUATION", "NONSPACING"):
        rs, flags = packed_ranges(t[name])
        ranges += rs
        if name == "NONSPACING":
            ranges += [r for r, f in zip(rs, flags) if f]
            merged = []
            for a, b in rs:
                if merged and merged[-1][1] + 1 == a:
                    merged[-1][1] = b
                else:
                    merged.append([a, b])
            ranges += [tuple(r) for r in merged]
    singles = [int(a, 16) for a in re.findall(r"\(0x([0-9A-F]+), \d+\)", t["COMBINING_KEPT"])]
    singles += [int(a, 16) >> 11 for a in re.findall(r"\(0x([0-9A-F]+), -?\d+\)", t["LOWER_RUNS"])]
    singles += [int(a, 16) for a in re.findall(r"\(0x([0-9A-F]+), \"", t["LOWER_MULTI"])]
    for name in ("DECOMP_BMP_KEYS", "DECOMP_BMP_VALUES", "DECOMP_CJK", "DECOMP_KEYS", "DECOMP_VALUES",
                 "DECOMP_POOL"):
        singles += [int(a, 16) for a in re.findall(r"0x([0-9A-F]+),", t[name])]
    first = int(re.search(r"DECOMP_CJK_FIRST: u32 = 0x([0-9A-F]+);", text)[1], 16)
    cjk = len(re.findall(r"0x[0-9A-F]+,", t["DECOMP_CJK"]))
    singles += range(first, first + cjk)
    return ranges, singles


def ok_char(c):
    return 0 <= c < 0x110000 and not 0xD800 <= c < 0xE000


def generated(rng):
    texts = []
    ranges, singles = table_ranges()
    points = set()
    for a, b in ranges:
        points.update((a, b, (a + b) // 2, a - 1, b + 1))
    points.update(singles)
    points = sorted(c for c in points if ok_char(c))
    # Each class member in a few contexts.
    for c in points:
        ch = chr(c)
        texts.append(ch)
        texts.append("Ab" + ch + "cD")
        texts.append("x " + ch + ch + " É" + ch + "y.")
    # Decompositions followed by marks, marks in every order, kept combining marks reordered.
    marks = ["\u0301", "\u0300", "\u0327", "\u0334", "\u0345", "\u05b0", "\u0e38", "\u093c", "\u1d165",
             "\u302e", "\u1b44", "\u08d4", "\u0f71", "\u0f72", "\u0f80", "\u1dfa", "\u034f", "\u0b56",
             "\u0941", "\ua953", "\u16ff0", "\U0001D16D", "\U0001D165", "\U0001D16E", "\u0f39", "\u0b4d"]
    kept = []
    for m in re.findall(r"\(0x([0-9A-F]+), (\d+)\),", tables()["COMBINING_KEPT"]):
        kept.append(chr(int(m[0], 16)))
    marks += kept
    bases = ["a", "E", "é", "Å", "ǅ", "ﬁ", "İ", "ß", "Σ", "한", "क", "ক", "ཀ", "\U0001D15E", "ୈ", "ᄀ", "中", "1", " "]
    for _ in range(4000):
        s = "".join(rng.choice(bases) + "".join(rng.choice(marks) for _ in range(rng.randrange(0, 5)))
                    for _ in range(rng.randrange(1, 5)))
        texts.append(s)
    # Random code points from every plane, and from the table points, in random mixes.
    for _ in range(3000):
        n = rng.randrange(1, 12)
        cs = []
        for _ in range(n):
            r = rng.random()
            if r < 0.4:
                c = rng.choice(points)
            elif r < 0.6:
                c = rng.randrange(0x20, 0x7F)
            elif r < 0.7:
                c = rng.randrange(0, 0x110000)
            else:
                c = rng.randrange(0, 0x3000)
            if ok_char(c):
                cs.append(chr(c))
        texts.append("".join(cs))
    # Hand-picked cases.
    texts += [
        "Héllo Wörld", "naïve café résumé", "ΕΛΛΗΝΙΚΆ ελληνικά Σίσυφος ΌΣΟΣ", "Привет, мир! Ёжик",
        "İstanbul ısı IĞDIR", "ﬁnance ﬂow ﬀ ﬃ Ǆ ǅ ǆ", "北京欢迎你 東京 서울 한국어 にほんご", "😀👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
        "a\u200bb c\u200dd e\ufeffF \u2060 \u00ad soft", "tab\there\nnew\r\nline\x0bvt\x0cff\x1fus\x7fdel\x85nel",
        "nul\x00in\x00side", "repl\ufffdacement", "1,234.56 +-*/ ((([]))) ... !!! ??? --- ___", "$100 €5 ¥3 £2",
        "a [MASK] b", "[MASK][MASK]", "a[MASK]b", "[mask] [Mask]", "[CLS] x [SEP] [PAD] [UNK]", "[[SEP]]", "[MAS K]",
        "[UNK]" * 3, "x" * 99, "x" * 100, "x" * 101, "é" * 100, "é" * 101, "a" + "\u0301" * 150,
        "supercalifragilisticexpialidocious " * 5, "ab" * 60, "中" * 300, "word " * 200, "",  " ", "\n\t ",
        "\u3000full\u3000width\uff01\uff1f ＡＢＣ １２３", "e\u0301 e\u0300\u0301 \u1e69 s\u0323\u0307 s\u0307\u0323",
        "Ⅻ ⅻ ① ㈱ ㎏ ™ ℌ ℍ", "Ǳ ǲ ǳ ϴ Ω K Å", "\U0001F600\U000E0001\U000E0041 tag", "\U0010FFFF \U000F0000 private",
        "\ud7a3\uac00\u1100\u1161\u11a8", "क़ ख़ ग़ ज़ ड़ ढ़", "ো ৌ ୈ ୋ ୌ ௌ", "ཱི ཱུ ཱྀ",
        "\U0001D15E\U0001D15F\U0001D160 \U0001D16D\U0001D165", "a\u0345\u0301", "ΐ ΰ ᾷ ᾅ",
    ]
    return texts


def every_code_point():
    """Every code point once, 64 at a time (so marks also follow whatever precedes them)."""
    run = [chr(c) for c in range(0x110000) if ok_char(c)]
    return ["".join(run[i:i + 64]) for i in range(0, len(run), 64)]


def invalid_utf8(rng):
    out = [b"\xff", b"\xc3", b"a\xc3", b"\xe2\x82", b"\xe2\x82a", b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\xc0\xaf",
           b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80", b"caf\xe9", b"hel\xfflo",
           b"\xef\xbf\xbd", b"a\xed\xbf\xbfb", b"\xf0\x90\x80", b"\xc2", b"\xc2\x41", b"[MA\xffSK] [MASK]\xff",
           "Héllo".encode("utf-16-le"), "naïve".encode("latin-1")]
    for _ in range(800):
        b = bytearray()
        for _ in range(rng.randrange(1, 16)):
            r = rng.random()
            if r < 0.3:
                b += rng.choice(["é", "中", "😀", "a", " ", "ﬁ", "Σ"]).encode()
            elif r < 0.6:
                b.append(rng.randrange(0x80, 0x100))
            else:
                b.append(rng.randrange(0x20, 0x7F))
        out.append(bytes(b))
    return out


# ------------------------------------------------------------------------------ running

def write_records(path, records):
    with open(path, "wb") as f:
        for max_tokens, data in records:
            f.write(struct.pack("<II", max_tokens, len(data)))
            f.write(data)


def read_ids(path, n):
    data = open(path, "rb").read()
    out, at = [], 0
    for _ in range(n):
        (k,) = struct.unpack_from("<I", data, at)
        at += 4
        out.append(list(struct.unpack_from(f"<{k}I", data, at)))
        at += 4 * k
    assert at == len(data), "trailing output"
    return out


CONFIGS = {
    # name: (BertNormalizer kwargs, example flags, which records)
    "uncased": (dict(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True), [], "all"),
    "cased": (dict(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=False),
              ["--lowercase", "0"], "all"),
    "strip-only": (dict(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=False),
                   ["--lowercase", "0", "--strip", "true"], "generated"),
    "lower-only": (dict(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True),
                   ["--strip", "false"], "generated"),
    "raw": (dict(clean_text=False, handle_chinese_chars=False, strip_accents=None, lowercase=True),
            ["--clean", "0", "--chinese", "0"], "generated"),
}


def read_words(path, n):
    data = open(path, "rb").read()
    out, at = [], 0
    for _ in range(n):
        (k,) = struct.unpack_from("<I", data, at)
        at += 4
        words = []
        for _ in range(k):
            (m,) = struct.unpack_from("<I", data, at)
            words.append(data[at + 4:at + 4 + m].decode("utf-8"))
            at += 4 + m
        out.append(words)
    assert at == len(data), "trailing output"
    return out


SPECIALS = re.compile(r"(\[PAD\]|\[UNK\]|\[CLS\]|\[SEP\]|\[MASK\])")


def hf_words(tok, text):
    """The words HF's WordPiece model sees: split on the special tokens, normalize, pre-tokenize."""
    out = []
    for k, part in enumerate(SPECIALS.split(text)):
        if k % 2:
            out.append(part)
        elif part:
            out += [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(part))]
    return out


def hf_encode(tok, records):
    """HF ids per record, grouped by max_tokens (0: no truncation)."""
    out = [None] * len(records)
    groups = {}
    for i, (m, data) in enumerate(records):
        groups.setdefault(m, []).append(i)
    for m, idx in sorted(groups.items()):
        if m == 0:
            tok.no_truncation()
        else:
            tok.enable_truncation(max_length=m)
        encs = tok.encode_batch([records[i][1].decode("utf-8", "replace") for i in idx])
        for i, e in zip(idx, encs):
            out[i] = e.ids
    tok.no_truncation()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--tokenizer-json", required=True)
    ap.add_argument("--bench", type=float, default=0)
    ap.add_argument("--debian", type=int, default=6000)
    ap.add_argument("--appstream", type=int, default=8000)
    args = ap.parse_args()
    rng = random.Random(13)
    t0 = time.time()

    tok = Tokenizer.from_file(args.tokenizer_json)
    tok.no_padding()
    tok.no_truncation()
    cfg = tok.to_str()
    for needle in ['"type":"BertNormalizer"', '"type":"BertPreTokenizer"', '"continuing_subword_prefix":"##"',
                   '"max_input_chars_per_word":100', '"unk_token":"[UNK]"']:
        assert needle in cfg.replace(" ", ""), f"tokenizer.json is not the expected BERT setup: {needle}"
    vocab = [l.rstrip() for l in open(args.vocab, encoding="utf-8").read().splitlines()]

    app, langs = appstream_strings(args.appstream, rng)
    if not app:
        print("WARNING: no AppStream metadata (/var/lib/apt/lists/*dep11_Components-*.yml.gz): "
              "only Debian descriptions as real texts, no translations")
    deb = debian_descriptions(args.debian + args.appstream - len(app), rng)
    if args.bench:
        return bench(args, tok, deb + app)
    gen = generated(rng)
    bad = invalid_utf8(rng)
    real = [("debian", s.encode()) for s in deb] + [("appstream", s.encode()) for s in app]
    synthetic = ([("generated", s.encode()) for s in gen] + [("every-code-point", s.encode()) for s in every_code_point()]
                 + [("invalid-utf8", b) for b in bad])
    records = [(0, d) for _, d in real + synthetic]
    sources = [s for s, _ in real + synthetic]
    # Truncation: a share of every source again, with small and random limits.
    for i in range(0, len(real) + len(synthetic), 7):
        records.append((rng.choice([2, 3, 4, 5, 8, 16, 128, rng.randrange(2, 64)]), records[i][1]))
        sources.append("truncated")
    counts = {}
    for s in sources:
        counts[s] = counts.get(s, 0) + 1
    print("tokenizer parity corpus: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" ({len(records)} records; AppStream languages: {len(langs)})")

    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, (norm, flags, which) in CONFIGS.items():
            sel = [i for i, s in enumerate(sources) if which == "all" or s in ("generated", "every-code-point", "invalid-utf8")]
            recs = [records[i] for i in sel]
            tok.normalizer = BertNormalizer(**norm)
            inp, outp = os.path.join(tmp, "in"), os.path.join(tmp, "out")
            write_records(inp, recs)
            subprocess.run([args.bin, args.vocab, inp, outp] + flags, check=True)
            ours = read_ids(outp, len(recs))
            ref = hf_encode(tok, recs)
            bad_idx = [k for k in range(len(recs)) if ours[k] != ref[k]]
            # The words WordPiece sees, too: a normalization difference that ends in [UNK] either
            # way (e.g. the order of marks that no vocabulary token holds) shows here.
            untruncated = [k for k, (m, _) in enumerate(recs) if m == 0]
            write_records(inp, [recs[k] for k in untruncated])
            subprocess.run([args.bin, args.vocab, inp, outp, "--words", "1"] + flags, check=True)
            our_words = read_words(outp, len(untruncated))
            bad_words = []
            for j, k in enumerate(untruncated):
                ref_words = hf_words(tok, recs[k][1].decode("utf-8", "replace"))
                if our_words[j] != ref_words:
                    bad_words.append((k, our_words[j], ref_words))
            print(f"  {name}: {len(recs)} texts, {len(bad_idx)} id mismatches, "
                  f"{len(bad_words)} word mismatches (of {len(untruncated)})")
            for k, ow, rw in bad_words[:8]:
                print(f"    source {sources[sel[k]]}: {recs[k][1]!r}")
                print(f"      hf     {rw!r}")
                print(f"      ours   {ow!r}")
            failed |= bool(bad_words)
            for k in bad_idx[:8]:
                m, data = recs[k]
                text = data.decode("utf-8", "replace")
                print(f"    source {sources[sel[k]]}, max_tokens {m or 'none'}: {data!r}")
                print(f"      text   {text!r}")
                print(f"      hf     {ref[k]}")
                print(f"      ours   {ours[k]}")
                print(f"      hf     {[vocab[i] if i < len(vocab) else i for i in ref[k]]}")
                print(f"      ours   {[vocab[i] if i < len(vocab) else i for i in ours[k]]}")
            failed |= bool(bad_idx)
    print(f"tokenizer parity: {'FAILED' if failed else 'ok'} in {time.time() - t0:.1f} s")
    sys.exit(1 if failed else 0)


def bench(args, tok, texts):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        write_records(inp, [(0, s.encode()) for s in texts])
        r = subprocess.run([args.bin, args.vocab, inp, outp, "--bench", str(args.bench)],
                           check=True, capture_output=True, text=True)
        print(r.stdout.strip())
    nbytes = sum(len(s.encode()) for s in texts)
    for label, run in [("encode_batch (RAYON_NUM_THREADS=1)", lambda: tok.encode_batch(texts)),
                       ("encode, one call per text", lambda: [tok.encode(s) for s in texts])]:
        reps, tokens, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < args.bench:
            tokens += sum(len(e.ids) for e in run())
            reps += 1
        s = time.perf_counter() - start
        print(f"HF tokenizers {label}: {len(texts)} texts, {reps * len(texts) / s:.0f} texts/s, "
              f"{tokens / s / 1e6:.3f} M tokens/s, {reps * nbytes / s / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main()
