//! The BERT WordPiece tokenizer (`ferrovec_core::encoder::tokenizer`): each normalizer,
//! pre-tokenizer and WordPiece rule on a small inline vocabulary, errors, hostile input, no
//! allocation per word, and (when `make model` has fetched it) the real all-MiniLM-L6-v2
//! vocabulary on hand-picked texts whose ids come from HF `tokenizers` 0.23.3.
//! `make test-tokenizer` checks tens of thousands of texts against HF itself.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations_of;

use ferrovec_core::encoder::tokenizer::{NormalizerOptions, WordPieceOptions, WordPieceTokenizer};
use ferrovec_core::Error;

const VOCAB: &[&str] = &[
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]", // 0-4
    "hello",
    "world",
    "!",
    ",",
    ".", // 5-9
    "un",
    "##aff",
    "##able",
    "1",
    "##2", // 10-14
    "中",
    "国",
    "cafe",
    "resume",
    "i", // 15-19
    "##stanbul",
    "ελληνικα",
    "привет",
    "ﬁ",
    "##nance", // 20-24
    "x",
    "##x",
    "a",
    "b",
    "-", // 25-29
    "Hello",
    "café",
    "İ",
    "i\u{307}",
    "mask", // 30-34
    "[",
    "]",
    "zero",
    "##width",
    "$", // 35-39
];

fn tok() -> WordPieceTokenizer {
    WordPieceTokenizer::from_tokens(VOCAB, WordPieceOptions::default()).unwrap()
}

fn cased() -> WordPieceTokenizer {
    let options = WordPieceOptions {
        normalizer: NormalizerOptions::CASED,
        ..WordPieceOptions::default()
    };
    WordPieceTokenizer::from_tokens(VOCAB, options).unwrap()
}

fn enc(t: &WordPieceTokenizer, text: &str) -> Vec<u32> {
    t.encode(text, usize::MAX).unwrap()
}

#[test]
fn accents_case_and_scripts() {
    let t = tok();
    assert_eq!(enc(&t, "Héllo Wörld!"), [2, 5, 6, 7, 3]);
    assert_eq!(enc(&t, "HÉLLO, hello."), [2, 5, 8, 5, 9, 3]);
    assert_eq!(enc(&t, "Café résumé"), [2, 17, 18, 3]);
    assert_eq!(enc(&t, "Ελληνικά ПРИВЕТ"), [2, 21, 22, 3]);
    // Turkish İ: NFD gives I + U+0307, the mark is stripped, then lowercase.
    assert_eq!(enc(&t, "İstanbul"), [2, 19, 20, 3]);
    // Ligatures have no canonical decomposition: ﬁ stays ﬁ.
    assert_eq!(enc(&t, "ﬁnance"), [2, 23, 24, 3]);
    assert_eq!(t.words("Ǆ ǅ ǆ"), ["ǆ", "ǆ", "ǆ"]);
    // Hangul syllables become conjoining jamo when accents are stripped.
    assert_eq!(
        t.words("한국"),
        ["\u{1112}\u{1161}\u{11AB}\u{1100}\u{116E}\u{11A8}"]
    );
}

#[test]
fn cased_models_keep_case_and_accents() {
    let t = cased();
    assert_eq!(enc(&t, "Hello café"), [2, 30, 31, 3]);
    assert_eq!(enc(&t, "hello"), [2, 5, 3]);
    assert_eq!(enc(&t, "İ"), [2, 32, 3]);
    // Lowercase without stripping: İ becomes i + U+0307.
    let options = WordPieceOptions {
        normalizer: NormalizerOptions {
            strip_accents: Some(false),
            ..NormalizerOptions::UNCASED
        },
        ..WordPieceOptions::default()
    };
    let t = WordPieceTokenizer::from_tokens(VOCAB, options).unwrap();
    assert_eq!(enc(&t, "İ"), [2, 33, 3]);
    assert_eq!(enc(&t, "café"), [2, 31, 3]);
}

#[test]
fn cjk_emoji_controls_and_invisible_chars() {
    let t = tok();
    assert_eq!(enc(&t, "中国"), [2, 15, 16, 3]);
    assert_eq!(t.words("ab中cd"), ["ab", "中", "cd"]);
    assert_eq!(enc(&t, "😀 hello👍"), [2, 1, 1, 3]);
    assert_eq!(t.words("😀 hello👍"), ["😀", "hello👍"]);
    // NUL, DEL, U+FFFD, soft hyphen, zero-width space / joiner, BOM: removed by clean_text.
    assert_eq!(enc(&t, "hel\0lo wor\u{7f}ld"), [2, 5, 6, 3]);
    assert_eq!(enc(&t, "hel\u{FFFD}lo"), [2, 5, 3]);
    assert_eq!(enc(&t, "zero\u{200B}width"), [2, 37, 38, 3]);
    assert_eq!(t.words("a\u{AD}b\u{200D}a\u{FEFF}b"), ["abab"]);
    // \t \n \r and other whitespace split words.
    assert_eq!(
        t.words("a\tb\nx\ry\u{3000}x\u{A0}x\u{2028}a"),
        ["a", "b", "x", "y", "x", "x", "a"]
    );
}

#[test]
fn punctuation_numbers_and_wordpiece() {
    let t = tok();
    assert_eq!(
        t.words("1,234.56 --- $5!?"),
        ["1", ",", "234", ".", "56", "-", "-", "-", "$", "5", "!", "?"]
    );
    assert_eq!(enc(&t, "12 ---"), [2, 13, 14, 29, 29, 29, 3]);
    assert_eq!(enc(&t, "unaffable"), [2, 10, 11, 12, 3]);
    assert_eq!(
        t.tokens("unaffable", 100).unwrap(),
        ["[CLS]", "un", "##aff", "##able", "[SEP]"]
    );
    // No full segmentation: the whole word is [UNK], not its first pieces.
    assert_eq!(enc(&t, "unaffablez"), [2, 1, 3]);
    // 100 chars are a word; 101 are [UNK] (counted after normalization: é is one char).
    let w100 = "x".repeat(100);
    assert_eq!(enc(&t, &w100).len(), 102);
    assert_eq!(enc(&t, &"x".repeat(101)), [2, 1, 3]);
    assert_eq!(enc(&t, &"é".repeat(101)), [2, 1, 3]);
    assert_eq!(enc(&t, &format!("{w100} x")).len(), 103);
}

#[test]
fn special_tokens_are_matched_in_the_raw_text() {
    let t = tok();
    assert_eq!(enc(&t, "a [MASK] b"), [2, 27, 4, 28, 3]);
    assert_eq!(enc(&t, "a[MASK]b"), [2, 27, 4, 28, 3]);
    assert_eq!(enc(&t, "[MASK][MASK]"), [2, 4, 4, 3]);
    assert_eq!(enc(&t, "[[SEP]]"), [2, 35, 3, 36, 3]);
    // Case-sensitive and before normalization.
    assert_eq!(enc(&t, "[mask]"), [2, 35, 34, 36, 3]);
    // The zero-width space keeps it from matching, then clean_text removes it.
    assert_eq!(enc(&t, "[MA\u{200B}SK]"), [2, 35, 34, 36, 3]);
    // A segment ends at a special token: no NFD reordering or word across it.
    assert_eq!(t.words("x[CLS]x"), ["x", "[CLS]", "x"]);
}

#[test]
fn truncation_counts_cls_and_sep() {
    let t = tok();
    let text = "hello world hello world";
    assert_eq!(t.encode(text, 2).unwrap(), [2, 3]);
    assert_eq!(t.encode(text, 3).unwrap(), [2, 5, 3]);
    assert_eq!(t.encode(text, 5).unwrap(), [2, 5, 6, 5, 3]);
    assert_eq!(t.encode(text, 6).unwrap(), [2, 5, 6, 5, 6, 3]);
    assert_eq!(t.encode(text, 1000).unwrap(), [2, 5, 6, 5, 6, 3]);
    // A word cut in the middle keeps its first pieces, as HF does.
    assert_eq!(t.encode("unaffable", 4).unwrap(), [2, 10, 11, 3]);
    assert_eq!(t.encode("a [MASK] b", 4).unwrap(), [2, 27, 4, 3]);
    for bad in [0, 1] {
        let e = t.encode(text, bad).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument(m) if m.contains("max_tokens")),
            "{e}"
        );
    }
}

#[test]
fn invalid_utf8_becomes_replacement_chars() {
    let t = tok();
    assert_eq!(t.encode_bytes(b"hel\xfflo", 100).unwrap(), [2, 5, 3]);
    assert_eq!(
        t.encode_bytes(b"hello \xe2\x82 world", 100).unwrap(),
        [2, 5, 6, 3]
    );
    assert_eq!(
        t.encode_bytes(b"\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80", 100)
            .unwrap(),
        [2, 3]
    );
    assert_eq!(t.encode_bytes("café".as_bytes(), 100).unwrap(), [2, 17, 3]);
    // Without clean_text the U+FFFD stay: one per maximal invalid subsequence.
    let options = WordPieceOptions {
        normalizer: NormalizerOptions {
            clean_text: false,
            ..NormalizerOptions::UNCASED
        },
        ..WordPieceOptions::default()
    };
    let raw = WordPieceTokenizer::from_tokens(VOCAB, options).unwrap();
    let mut out = Vec::new();
    raw.encode_bytes_into(b"a\xe2\x82 \xf0\x9f\x98", 100, &mut out)
        .unwrap();
    assert_eq!(
        raw.words(&String::from_utf8_lossy(b"a\xe2\x82 \xf0\x9f\x98")),
        ["a\u{FFFD}", "\u{FFFD}"]
    );
    assert_eq!(out, [2, 1, 1, 3]);
}

#[test]
fn construction_errors_name_the_problem() {
    let msg = |r: Result<WordPieceTokenizer, Error>| match r {
        Err(Error::InvalidArgument(m)) | Err(Error::CorruptFile(m)) => m,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted"),
    };
    let d = WordPieceOptions::default;
    assert!(msg(WordPieceTokenizer::from_tokens::<&str>(&[], d())).contains("empty"));
    assert!(msg(WordPieceTokenizer::from_tokens(
        &["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "a", "a"],
        d()
    ))
    .contains("duplicate token \"a\""));
    assert!(msg(WordPieceTokenizer::from_tokens(
        &["[UNK]", "[CLS]", "[SEP]", "a"],
        d()
    ))
    .contains("\"[PAD]\""));
    assert!(
        msg(WordPieceTokenizer::from_tokens(&["[CLS]", "[SEP]"], d()))
            .contains("unknown token \"[UNK]\"")
    );
    assert!(msg(WordPieceTokenizer::from_vocab_txt(b"[UNK]\n\xff\n", d())).contains("not UTF-8"));
    assert!(matches!(
        WordPieceTokenizer::from_vocab_txt(b"\xff", d()),
        Err(Error::CorruptFile(_))
    ));
    let e = WordPieceTokenizer::from_vocab_txt(b"[UNK]\n[CLS]\n[SEP]\n[PAD]\n[MASK]\nx\nx\n", d())
        .unwrap_err();
    assert!(
        matches!(&e, Error::CorruptFile(m) if m.starts_with("vocab.txt: duplicate token \"x\"")),
        "{e}"
    );
    let e = WordPieceTokenizer::from_vocab_txt(b"[UNK]\n[CLS]\n[SEP]\n", d()).unwrap_err();
    assert!(
        matches!(&e, Error::CorruptFile(m) if m.contains("\"[PAD]\" is not in the vocabulary")),
        "{e}"
    );
    let e = WordPieceTokenizer::from_vocab_txt(b"", d()).unwrap_err();
    assert!(
        matches!(&e, Error::CorruptFile(m) if m.contains("empty")),
        "{e}"
    );
    let entries = [
        ("[PAD]", 0u32),
        ("[UNK]", 1),
        ("[CLS]", 2),
        ("[SEP]", 3),
        ("[MASK]", 7),
    ];
    assert!(msg(WordPieceTokenizer::from_vocab_entries(entries, d())).contains("id 7"));
    let entries = [
        ("[PAD]", 0u32),
        ("[UNK]", 1),
        ("[CLS]", 2),
        ("[SEP]", 3),
        ("[MASK]", 3),
    ];
    assert!(msg(WordPieceTokenizer::from_vocab_entries(entries, d())).contains("given to both"));
    let mut o = d();
    o.max_input_chars_per_word = 0;
    assert!(msg(WordPieceTokenizer::from_tokens(VOCAB, o)).contains("max_input_chars_per_word"));
    let mut o = d();
    o.special_tokens.push(String::new());
    assert!(msg(WordPieceTokenizer::from_tokens(
        &["", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        o
    ))
    .contains("empty"));
}

#[test]
fn vocab_sources_agree() {
    let txt: String = VOCAB.iter().map(|t| format!("{t}  \r\n")).collect();
    let a =
        WordPieceTokenizer::from_vocab_txt(txt.as_bytes(), WordPieceOptions::default()).unwrap();
    let mut entries: Vec<(String, u32)> = VOCAB
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), i as u32))
        .collect();
    entries.reverse();
    let b = WordPieceTokenizer::from_vocab_entries(entries, WordPieceOptions::default()).unwrap();
    let c = tok();
    for t in [&a, &b] {
        assert_eq!(t.vocab_size(), VOCAB.len());
        assert_eq!((t.cls_id(), t.sep_id(), t.unk_id()), (2, 3, 1));
        assert_eq!(t.id_to_token(11), Some("##aff"));
        assert_eq!(t.token_to_id("##aff"), Some(11));
        assert_eq!(t.id_to_token(40), None);
        assert_eq!(
            enc(t, "Héllo unaffable [MASK]"),
            enc(&c, "Héllo unaffable [MASK]")
        );
    }
}

#[test]
fn hostile_input_never_panics() {
    let t = tok();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for _ in 0..3000 {
        let n = (next() % 64) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        let max = 2 + (next() % 20) as usize;
        t.encode_bytes_into(&bytes, max, &mut out).unwrap();
        assert!(out.len() <= max && out.len() >= 2);
        assert_eq!((out[0], out[out.len() - 1]), (2, 3));
        let chars: String = (0..n)
            .filter_map(|_| char::from_u32((next() % 0x11_0000) as u32))
            .collect();
        t.encode_into(&chars, usize::MAX, &mut out).unwrap();
        let _ = t.words(&chars);
    }
    // Long inputs: marks by the thousand on one base, words far over the limit.
    let marks = format!("a{}", "\u{301}\u{8D4}\u{1D165}\u{1D16D}".repeat(2000));
    assert_eq!(enc(&t, &marks), [2, 1, 3]);
    assert_eq!(enc(&t, &"x".repeat(100_000)), [2, 1, 3]);
}

#[test]
fn encode_into_does_not_allocate() {
    let t = tok();
    let text = "Héllo, wörld! unaffable 中国 [MASK] ".repeat(50);
    let mut out = Vec::with_capacity(4096);
    t.encode_into(&text, usize::MAX, &mut out).unwrap();
    let expected = out.clone();
    let ((), calls) = allocations_of(|| t.encode_into(&text, usize::MAX, &mut out).unwrap());
    assert_eq!(calls, 0);
    assert_eq!(out, expected);
}

/// The real all-MiniLM-L6-v2 vocabulary (`make model`), ids from HF `tokenizers` 0.23.3.
#[test]
fn minilm_vocabulary() {
    let dir = std::env::var("FERROVEC_MINILM_DIR").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/ferrovec/models/all-minilm-l6-v2")
    });
    let Ok(vocab) = std::fs::read(format!("{dir}/vocab.txt")) else {
        eprintln!("SKIPPED minilm_vocabulary: no {dir}/vocab.txt (run `make model`)");
        return;
    };
    let t = WordPieceTokenizer::from_vocab_txt(&vocab, WordPieceOptions::default()).unwrap();
    assert_eq!(t.vocab_size(), 30522);
    let cases: &[(&str, &[u32])] = &[
        ("Héllo Wörld!", &[101, 7592, 2088, 999, 102]),
        ("北京欢迎你", &[101, 1781, 1755, 100, 100, 100, 102]),
        (
            "I ❤️ 😀 emoji",
            &[101, 1045, 100, 100, 7861, 29147, 2072, 102],
        ),
        (
            "Ελληνικά Привет",
            &[
                101, 1159, 29727, 29727, 24824, 16177, 18199, 29726, 14608, 1194, 16856, 10325,
                25529, 15290, 22919, 102,
            ],
        ),
        ("İstanbul", &[101, 9960, 102]),
        ("ﬁnance", &[101, 1984, 7229, 3401, 102]),
        (
            "tab\there\0nul\u{7f}",
            &[101, 21628, 2182, 11231, 2140, 102],
        ),
        ("re\u{FFFD}place", &[101, 5672, 102]),
        ("zero\u{200B}width", &[101, 5717, 9148, 11927, 2232, 102]),
        ("a [MASK] b", &[101, 1037, 103, 1038, 102]),
        ("[mask]", &[101, 1031, 7308, 1033, 102]),
        (
            "1,234.56 --- ...!",
            &[
                101, 1015, 1010, 22018, 1012, 5179, 1011, 1011, 1011, 1012, 1012, 1012, 999, 102,
            ],
        ),
        ("unaffable", &[101, 14477, 20961, 3468, 102]),
        (
            "The weather is lovely today.",
            &[101, 1996, 4633, 2003, 8403, 2651, 1012, 102],
        ),
    ];
    for (text, ids) in cases {
        assert_eq!(t.encode(text, usize::MAX).unwrap(), *ids, "{text:?}");
    }
    assert_eq!(t.encode(&"x".repeat(101), 512).unwrap(), [101, 100, 102]);
    assert_eq!(
        t.encode("The weather is lovely today.", 4).unwrap(),
        [101, 1996, 4633, 102]
    );
}

/// Every refusal of a `vocab.txt` is a `CorruptFile` whose message starts with `vocab.txt:`,
/// as documented; the UTF-8 one said "vocab.txt is not UTF-8" (found by the `tokenizer`
/// fuzz target, fuzz/regressions/tokenizer/).
#[test]
fn vocab_txt_refusals_start_with_the_file_name() {
    for bad in [
        &b"[UNK]\n[CLS]\n[SEP]\nab\xffc\n"[..],
        b"",
        b"[UNK]\n[CLS]\n[SEP]\n[UNK]\n",
        b"[CLS]\n[SEP]\n",
    ] {
        let e = WordPieceTokenizer::from_vocab_txt(bad, WordPieceOptions::default()).unwrap_err();
        assert!(
            matches!(&e, Error::CorruptFile(m) if m.starts_with("vocab.txt: ")),
            "{e:?}"
        );
    }
}
