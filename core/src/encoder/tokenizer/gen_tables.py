#!/usr/bin/env python3
"""Generate tables.rs: the Unicode facts of HF `tokenizers`' BERT normalizer and pre-tokenizer.

Every fact is read from the installed reference library itself (tokenizers, the version pinned
by the Makefile's PY_REF_REQUIREMENTS), one code point at a time, so the Rust tokenizer agrees
with what that library does, whatever Unicode version Python or rustc ship. Python's own
`unicodedata` is used only for canonical combining class values of the few non-Mn combining
marks, and those are checked against the library's canonical ordering.

Run by `make tokenizer-tables` (writes tables.rs next to this file) and checked by
`make check-tokenizer-tables` (`--check`: fails when the committed file is stale).
"""
import sys
import os
import unicodedata

import tokenizers
from tokenizers.normalizers import BertNormalizer, NFD
from tokenizers.pre_tokenizers import BertPreTokenizer

MAX = 0x110000
SURROGATES = range(0xD800, 0xE000)


def chars():
    for c in range(MAX):
        if c in SURROGATES:
            continue
        yield c


CJK_FIRST, CJK_LAST = 0x2F800, 0x2FA1D


def packed(rs, flags=None):
    """Inclusive ranges -> u32 each: start << 11 | flag << 10 | (end - start)."""
    out = []
    for i, (a, b) in enumerate(rs):
        assert b - a < 1024 and a < MAX
        out.append(a << 11 | (flags[i] if flags else 0) << 10 | (b - a))
    return out


def flagged_ranges(codes, flag):
    """Sorted code points -> inclusive ranges of equal flag(c): ([(start, end)], [flag])."""
    rs, fs = [], []
    for c in sorted(codes):
        if rs and rs[-1][1] + 1 == c and fs[-1] == flag(c):
            rs[-1][1] = c
        else:
            rs.append([c, c])
            fs.append(flag(c))
    return [tuple(r) for r in rs], fs


def ranges(codes):
    """Sorted code points -> inclusive (start, end) ranges."""
    out = []
    for c in sorted(codes):
        if out and out[-1][1] + 1 == c:
            out[-1][1] = c
        else:
            out.append([c, c])
    return [tuple(r) for r in out]


def main():
    check = "--check" in sys.argv
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "tables.rs")

    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    nfd = NFD()
    pre = BertPreTokenizer()

    clean_removed, clean_ws, chinese_set, pre_ws, pre_punct = [], [], [], [], []
    mn = []            # removed by strip_accents on their own (nonspacing marks)
    decomp = {}        # c -> its full canonical decomposition (c excluded when NFD(c) == c)
    stripped = {}      # c -> strip_accents(c), for decomposing c
    lowered = {}       # c -> lowercase(c) when it differs
    for c in chars():
        ch = chr(c)
        r = clean.normalize_str(ch)
        if r == "":
            clean_removed.append(c)
        elif r == " ":
            if ch != " ":
                clean_ws.append(c)
        else:
            assert r == ch, (hex(c), r)
        r = chinese.normalize_str(ch)
        if r == " " + ch + " ":
            chinese_set.append(c)
        else:
            assert r == ch, (hex(c), r)
        d = nfd.normalize_str(ch)
        s = strip.normalize_str(ch)
        if d != ch:
            decomp[c] = d
            stripped[c] = s
        elif s == "":
            mn.append(c)
        else:
            assert s == ch, (hex(c), s)
        r = lower.normalize_str(ch)
        if r != ch:
            lowered[c] = r
        p = [t for t, _ in pre.pre_tokenize_str("a" + ch + "a")]
        if p == ["a", "a"]:
            pre_ws.append(c)
        elif p == ["a", ch, "a"]:
            pre_punct.append(c)
        else:
            assert p == ["a" + ch + "a"], (hex(c), p)

    mn_set = set(mn)

    # Canonical combining class: zero or not, from the library's canonical ordering. With
    # U+0301 (ccc 230) before x, x moves in front iff 0 < ccc(x) < 230; with U+0334 (ccc 1)
    # after x, it moves in front iff ccc(x) > 1. So ccc(x) == 0 iff neither moves.
    def ccc_nonzero(x):
        ch = chr(x)
        return (nfd.normalize_str("a\u0301" + ch) != "a\u0301" + ch
                or nfd.normalize_str("a" + ch + "\u0334") != "a" + ch + "\u0334")

    nonzero = set()
    for c in chars():
        if c not in decomp and ccc_nonzero(c):
            nonzero.add(c)

    # Marks that strip_accents keeps although they take part in canonical ordering.
    survivors = sorted(c for c in nonzero if c not in mn_set)
    ccc = {}
    for c in survivors:
        v = unicodedata.combining(chr(c))
        if v == 0:
            sys.exit(f"U+{c:04X}: the library orders it as a combining mark, Python's unicodedata "
                     f"({unicodedata.unidata_version}) does not know its class: extend gen_tables.py")
        ccc[c] = v
    for a in survivors:
        for b in survivors:
            got = nfd.normalize_str("a" + chr(a) + chr(b))
            want = "a" + (chr(a) + chr(b) if ccc[a] <= ccc[b] else chr(b) + chr(a))
            assert got == want, (hex(a), hex(b))
        assert a not in lowered and a not in pre_ws and a not in pre_punct, hex(a)

    # Decompositions: Hangul syllables are algorithmic (checked here, not stored); the rest are
    # stored as their strip_accents result plus whether their first element is a starter
    # (ccc 0: the canonical-ordering run restarts there even when that element is dropped).
    for c in range(0xAC00, 0xD7A4):
        s = c - 0xAC00
        want = chr(0x1100 + s // 588) + chr(0x1161 + (s % 588) // 28) + ("" if s % 28 == 0 else chr(0x11A7 + s % 28))
        assert decomp.pop(c) == want and stripped.pop(c) == want, hex(c)
    dec_keys, dec_vals, pool = [], [], []
    bmp_keys, bmp_vals = [], []  # the common case, 4 bytes each: BMP -> one BMP char, a starter
    cjk = []  # the CJK compatibility ideographs supplement: each one decomposes to one starter
    for c in sorted(decomp):
        d = decomp[c]
        for e in d:
            assert nfd.normalize_str(e) == e
        kept = "".join(e for e in d if ord(e) not in mn_set)
        assert kept == stripped[c], (hex(c), d, stripped[c])
        # A dropped starter after the first element restarts the run mid-decomposition: that
        # is only not stored when no kept combining mark precedes it (so the run is empty).
        for i, e in enumerate(d):
            if i > 0 and ord(e) in mn_set and ord(e) not in nonzero:
                assert not any(ord(x) in nonzero and ord(x) not in mn_set for x in d[:i]), hex(c)
        starter = ord(d[0]) not in nonzero
        if len(kept) == 1:
            v = ord(kept)
        else:
            off = len(pool)
            pool.extend(ord(e) for e in kept)
            assert len(kept) < 8 and off < (1 << 21)
            v = off | (len(kept) << 21) | (1 << 24)
        if starter:
            v |= 1 << 31
        if CJK_FIRST <= c <= CJK_LAST:
            assert starter and len(kept) == 1 and c == CJK_FIRST + len(cjk), hex(c)
            cjk.append(ord(kept))
        elif c <= 0xFFFF and starter and len(kept) == 1 and ord(kept) <= 0xFFFF:
            bmp_keys.append(c)
            bmp_vals.append(ord(kept))
        else:
            dec_keys.append(c)
            dec_vals.append(v)

    # Lowercase: single-char mappings as arithmetic runs, the rest (multi-char) listed.
    single = sorted((c, ord(r) - c) for c, r in lowered.items() if len(r) == 1)
    multi = sorted((c, r) for c, r in lowered.items() if len(r) != 1)
    runs = []  # [start, count, stride, delta]
    for c, delta in single:
        if runs:
            st, n, stride, dl = runs[-1]
            last = st + (n - 1) * stride
            if dl == delta and n == 1 and c - st in (1, 2):
                runs[-1] = [st, 2, c - st, dl]
                continue
            if dl == delta and n > 1 and c == last + stride:
                runs[-1][1] += 1
                continue
        runs.append([c, 1, 1, delta])
    for r in runs:
        assert r[1] < 1024 and r[2] in (1, 2) and r[0] < MAX
    assert len(cjk) == CJK_LAST - CJK_FIRST + 1

    ws_mn_check = [c for c in mn if c in pre_ws or c in pre_punct]
    assert not ws_mn_check

    def fmt_ranges(name, doc, rs):
        body = "".join(f"    (0x{a:X}, 0x{b:X}),\n" for a, b in rs)
        return f"/// {doc}\npub(super) static {name}: [(u32, u32); {len(rs)}] = [\n{body}];\n\n"

    def fmt_packed(name, doc, xs):
        return fmt_u32(name, doc, xs, 6)

    def fmt_u32(name, doc, xs, per=8, ty="u32"):
        lines = []
        for i in range(0, len(xs), per):
            lines.append("    " + " ".join(f"0x{x:X}," for x in xs[i:i + per]) + "\n")
        return f"/// {doc}\npub(super) static {name}: [{ty}; {len(xs)}] = [\n{''.join(lines)}];\n\n"

    out = []
    out.append(f"// @generated by core/src/encoder/tokenizer/gen_tables.py from HF tokenizers "
               f"{tokenizers.__version__}: do not edit.\n")
    out.append("// `make tokenizer-tables` regenerates it, `make check-tokenizer-tables` checks it.\n")
    out.append("// Ranges are inclusive and sorted; all tables are looked up by binary search.\n\n")
    out.append(f"/// The reference library these tables were read from.\npub(super) const REFERENCE: &str = \"tokenizers {tokenizers.__version__}\";\n\n")
    out.append(fmt_ranges("CLEAN_REMOVED", "Removed by `clean_text` (U+0000, U+FFFD, controls other than \\t \\n \\r, other categories C*).", ranges(clean_removed)))
    out.append(fmt_ranges("CLEAN_WHITESPACE", "Mapped to ' ' by `clean_text` (other than ' ' itself).", ranges(clean_ws)))
    out.append(fmt_ranges("CHINESE", "Surrounded by spaces by `handle_chinese_chars`.", ranges(chinese_set)))
    out.append(fmt_ranges("SPLIT_WHITESPACE", "Whitespace to the pre-tokenizer: splits words and is dropped.", ranges(pre_ws)))
    out.append(fmt_packed("PUNCTUATION", "Punctuation to the pre-tokenizer, each one a word of its own: packed ranges (`start << 11 | end - start`).", packed(ranges(pre_punct))))
    mn_ranges, mn_starter = flagged_ranges(mn, lambda c: int(c not in nonzero))
    out.append(fmt_packed("NONSPACING", "Dropped by `strip_accents` (nonspacing marks that do not decompose): packed ranges (`start << 11 | starter << 10 | end - start`), `starter`: canonical combining class 0.", packed(mn_ranges, mn_starter)))
    out.append("/// Kept by `strip_accents` but reordered by NFD: (code point, canonical combining class).\n")
    out.append(f"pub(super) static COMBINING_KEPT: [(u32, u8); {len(survivors)}] = [\n")
    out.append("".join(f"    (0x{c:X}, {ccc[c]}),\n" for c in survivors))
    out.append("];\n\n")
    out.append(fmt_u32("DECOMP_BMP_KEYS", "BMP code points whose decomposition starts with a starter and keeps one BMP char.", bmp_keys, 10, "u16"))
    out.append(fmt_u32("DECOMP_BMP_VALUES", "`strip_accents` of DECOMP_BMP_KEYS[i].", bmp_vals, 10, "u16"))
    out.append(f"/// The first of the CJK compatibility ideographs supplement (U+{CJK_FIRST:X}..=U+{CJK_LAST:X}), which all decompose.\npub(super) const DECOMP_CJK_FIRST: u32 = 0x{CJK_FIRST:X};\n\n")
    out.append(fmt_u32("DECOMP_CJK", "`strip_accents` of DECOMP_CJK_FIRST + i: one char, a starter.", cjk))
    out.append(fmt_u32("DECOMP_KEYS", "The other code points with a canonical decomposition (Hangul syllables excluded: algorithmic).", dec_keys))
    out.append(fmt_u32("DECOMP_VALUES", "`strip_accents` of DECOMP_KEYS[i]: bits 0-20 one char, or (bit 24 set) bits 0-20 an offset into DECOMP_POOL and bits 21-23 a length; bit 31: the decomposition starts with a starter.", dec_vals))
    out.append(fmt_u32("DECOMP_POOL", "Multi-char `strip_accents` results.", pool))
    out.append("/// Lowercase runs: (first << 11 | (stride - 1) << 10 | count, delta): first + k * stride maps to itself + delta, k < count.\n")
    out.append(f"pub(super) static LOWER_RUNS: [(u32, i32); {len(runs)}] = [\n")
    out.append("".join(f"    (0x{a << 11 | (s - 1) << 10 | n:X}, {d}),\n" for a, n, s, d in runs))
    out.append("];\n\n")
    out.append("/// Lowercase mappings to more than one char.\n")
    out.append(f"pub(super) static LOWER_MULTI: [(u32, &str); {len(multi)}] = [\n")
    def rust_str(r):
        return '"' + "".join("\\u{%X}" % ord(x) for x in r) + '"'

    out.append("".join(f"    (0x{c:X}, {rust_str(r)}),\n" for c, r in multi))
    out.append("];\n")
    text = "".join(out)

    if check:
        try:
            with open(path, encoding="utf-8") as f:
                old = f.read()
        except FileNotFoundError:
            old = None
        if old != text:
            sys.exit(f"{path} is stale: run `make tokenizer-tables`")
        print(f"{path} is up to date")
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {path}: {len(clean_removed)} removed, {len(bmp_keys)} + {len(dec_keys)} decompositions, "
              f"{len(runs)} lowercase runs, {len(multi)} multi-char lowercase, {len(survivors)} kept combining")


if __name__ == "__main__":
    main()
