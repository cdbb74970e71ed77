//! BERT WordPiece tokenization, with the token ids of HF `tokenizers`.
//!
//! [`WordPieceTokenizer`] reproduces what HF `tokenizers` (the version named by
//! `gen_tables.py`, 0.23.3) does for a BERT WordPiece `tokenizer.json` such as
//! all-MiniLM-L6-v2's, step by step:
//!
//! 1. **Special tokens** (HF "added tokens" with `normalized: false`, e.g. `[MASK]`) are
//!    matched in the raw text first, leftmost-longest, case-sensitive; the text between them
//!    is tokenized on its own.
//! 2. **`BertNormalizer`**: `clean_text` removes U+0000, U+FFFD and control / format chars
//!    (other than `\t \n \r`) and maps whitespace to `' '`; `handle_chinese_chars` puts spaces
//!    around CJK ideographs; `strip_accents` (when `Some(true)`, or `None` with `lowercase`)
//!    applies NFD and drops nonspacing marks; `lowercase` lowercases char by char.
//! 3. **`BertPreTokenizer`**: whitespace splits words (and is dropped), each punctuation char
//!    is a word of its own.
//! 4. **WordPiece**: greedy longest-match-first, later pieces with the continuing prefix
//!    (`##`); a word longer than `max_input_chars_per_word` chars, or with no full
//!    segmentation, becomes the unknown token.
//! 5. **Post-processing**: `[CLS] ... [SEP]`, truncated to `max_tokens` *including* the two
//!    (HF truncation of a single sequence: the first `max_tokens - 2` tokens are kept).
//!
//! Every Unicode fact (which chars are controls, whitespace, punctuation, CJK, nonspacing
//! marks, their decompositions and lowercase) comes from tables generated from the reference
//! library itself (`gen_tables.py`, `make tokenizer-tables`), so they match what it does
//! rather than some other Unicode version. `make test-tokenizer` checks the ids against HF
//! `tokenizers` on over 10,000 real and generated strings.
//!
//! **Invalid UTF-8** ([`WordPieceTokenizer::encode_bytes`], the C and wasm boundary): each
//! maximal invalid subsequence becomes one U+FFFD before anything else, as
//! [`String::from_utf8_lossy`] and Python's `bytes.decode("utf-8", "replace")` do; with
//! `clean_text` on (BERT's default) those U+FFFD are then removed like any other.
//!
//! ```
//! use ferrovec_core::encoder::tokenizer::{WordPieceOptions, WordPieceTokenizer};
//!
//! let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n!\nun\n##aff\n##able\n";
//! let tok = WordPieceTokenizer::from_vocab_txt(vocab.as_bytes(), WordPieceOptions::default())?;
//! assert_eq!(tok.encode("Héllo, WORLD!", 512)?, [2, 5, 1, 6, 7, 3]); // "," is not in the vocab
//! assert_eq!(tok.tokens("unaffable [MASK]", 512)?, ["[CLS]", "un", "##aff", "##able", "[MASK]", "[SEP]"]);
//! assert_eq!(tok.encode("hello world", 3)?, [2, 5, 3]); // truncated: [CLS] + 1 + [SEP]
//! assert_eq!(tok.encode_bytes(b"hel\xfflo", 512)?, [2, 5, 3]); // U+FFFD, then removed
//! # Ok::<(), ferrovec_core::Error>(())
//! ```

#[rustfmt::skip]
mod tables;
mod unicode;
mod vocab;

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::tokenizer_spec::TokenizerSpec;
use super::Quoted;
use crate::{Error, Result};
use unicode::{Clean, Lower, Strip};
use vocab::Vocab;

/// The reference library the Unicode tables were generated from (`"tokenizers 0.23.3"`).
pub const REFERENCE: &str = tables::REFERENCE;

/// The options of HF's `BertNormalizer` (the `normalizer` of a BERT `tokenizer.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizerOptions {
    /// Remove U+0000, U+FFFD and control / format chars (other than `\t \n \r`); map
    /// whitespace to `' '`.
    pub clean_text: bool,
    /// Put spaces around CJK ideographs, so each is a word of its own.
    pub handle_chinese_chars: bool,
    /// Decompose (NFD) and drop nonspacing marks. `None` (the `tokenizer.json` `null`)
    /// follows `lowercase`.
    pub strip_accents: Option<bool>,
    /// Lowercase, char by char (after stripping accents).
    pub lowercase: bool,
}

impl NormalizerOptions {
    /// Uncased BERT models (all-MiniLM-L6-v2, bert-base-uncased): everything on, accents
    /// stripped because `lowercase` is.
    pub const UNCASED: NormalizerOptions = NormalizerOptions {
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: None,
        lowercase: true,
    };
    /// Cased BERT models (bert-base-cased): no lowercasing, accents kept.
    pub const CASED: NormalizerOptions = NormalizerOptions {
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: None,
        lowercase: false,
    };

    /// Whether accents are stripped: `strip_accents`, or `lowercase` when it is `None`.
    pub fn strips_accents(&self) -> bool {
        self.strip_accents.unwrap_or(self.lowercase)
    }
}

impl Default for NormalizerOptions {
    fn default() -> Self {
        NormalizerOptions::UNCASED
    }
}

/// Everything but the vocabulary: the normalizer, the WordPiece model's parameters and the
/// special tokens. [`Default`] is all-MiniLM-L6-v2's (and bert-base-uncased's)
/// `tokenizer.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordPieceOptions {
    /// The `BertNormalizer` options.
    pub normalizer: NormalizerOptions,
    /// The token of words that cannot be segmented (`"[UNK]"`).
    pub unk_token: String,
    /// The prefix of pieces that continue a word (`"##"`, at most 64 bytes).
    pub continuing_subword_prefix: String,
    /// Longer words (in chars, after normalization) become `unk_token` (100; at most 65,536).
    pub max_input_chars_per_word: usize,
    /// The token put first (`"[CLS]"`).
    pub cls_token: String,
    /// The token put last (`"[SEP]"`).
    pub sep_token: String,
    /// Tokens matched in the raw text before normalization: the `added_tokens` of a
    /// `tokenizer.json` whose `normalized` is false (with `single_word`, `lstrip` and `rstrip`
    /// false). Each must be in the vocabulary; its id is its vocabulary id.
    pub special_tokens: Vec<String>,
}

impl Default for WordPieceOptions {
    fn default() -> Self {
        WordPieceOptions {
            normalizer: NormalizerOptions::UNCASED,
            unk_token: "[UNK]".into(),
            continuing_subword_prefix: "##".into(),
            max_input_chars_per_word: 100,
            cls_token: "[CLS]".into(),
            sep_token: "[SEP]".into(),
            special_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// A vocabulary problem found in a `vocab.txt` is a corrupt file.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn in_vocab_txt(e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::CorruptFile(format!("vocab.txt: {m}")),
        e => e,
    }
}

/// The most chars a word may be allowed (`max_input_chars_per_word`).
const MAX_WORD_CHARS_LIMIT: usize = 1 << 16;
/// The longest continuing prefix accepted.
const MAX_PREFIX_LEN: usize = 64;
/// WordPiece hashes every prefix of a candidate up to this long (bytes) in one pass.
const HASH_WINDOW: usize = 63;
/// Word buffers up to this size live on the stack (100 chars of 4 bytes plus `##` fit).
const STACK_WORD_BUFFER: usize = 1024;

/// What an ASCII char turns into, precomputed from the tables and the options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ascii {
    Drop,
    Split,
    Punct,
    Letter(u8),
}

/// A BERT WordPiece tokenizer with HF `tokenizers`' token ids (see the [module
/// docs](self)). Immutable once built: share it between threads freely.
#[derive(Clone, Debug)]
pub struct WordPieceTokenizer {
    vocab: Vocab,
    options: WordPieceOptions,
    strip: bool,
    unk: u32,
    cls: u32,
    sep: u32,
    /// (bytes, id) of the special tokens, and which bytes start one.
    specials: Vec<(Vec<u8>, u32)>,
    special_first: [bool; 256],
    ascii: [AsciiSlot; 128],
}

#[derive(Clone, Copy, Debug)]
struct AsciiSlot(u8, u8);

impl AsciiSlot {
    fn get(self) -> Ascii {
        match self.0 {
            0 => Ascii::Drop,
            1 => Ascii::Split,
            2 => Ascii::Punct,
            _ => Ascii::Letter(self.1),
        }
    }
}

impl WordPieceTokenizer {
    /// Builds a tokenizer from the bytes of a `vocab.txt` (one token per line, the line
    /// number is the id; trailing whitespace of a line is not part of the token, as in HF).
    ///
    /// Errors: [`Error::CorruptFile`] when the bytes are not UTF-8 and for the vocabulary
    /// problems of [`WordPieceTokenizer::from_tokens`] (empty, a duplicate token, a special
    /// token missing), the message starting with `vocab.txt:`; [`Error::InvalidArgument`]
    /// for bad options.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_vocab_txt(bytes: &[u8], options: WordPieceOptions) -> Result<Self> {
        let text = core::str::from_utf8(bytes).map_err(|e| {
            Error::CorruptFile(format!("vocab.txt: not UTF-8 (byte {})", e.valid_up_to()))
        })?;
        let tokens: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
        let vocab = Vocab::new(&tokens).map_err(in_vocab_txt)?;
        Self::build(vocab, options).map_err(|e| match e {
            Error::InvalidArgument(ref m) if m.contains("not in the vocabulary") => in_vocab_txt(e),
            e => e,
        })
    }

    /// Builds a tokenizer from its tokens in id order (the token at index `i` has id `i`).
    ///
    /// Errors ([`Error::InvalidArgument`], naming the problem): an empty vocabulary, a
    /// duplicate token, a special, unknown, `[CLS]` or `[SEP]` token missing from the
    /// vocabulary, an empty special token, a prefix over 64 bytes, or a
    /// `max_input_chars_per_word` of 0 or over 65,536.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_tokens<S: AsRef<str>>(tokens: &[S], options: WordPieceOptions) -> Result<Self> {
        let vocab = Vocab::new(tokens)?;
        Self::build(vocab, options)
    }

    /// The tokenizer a `tokenizer.json` describes ([`TokenizerSpec::from_json`]): its
    /// vocabulary, normalizer, unknown token, subword prefix, word length limit and added
    /// tokens. `[CLS]` and `[SEP]` are BERT's (the post-processor of every BERT
    /// `tokenizer.json`); truncation is the caller's, per call.
    ///
    /// Errors ([`Error::CorruptFile`], naming `tokenizer.json`): a vocabulary without
    /// `[CLS]` or `[SEP]`, ids that are not `0..n`, an added token missing from the
    /// vocabulary.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_spec(spec: &TokenizerSpec) -> Result<Self> {
        let options = WordPieceOptions {
            normalizer: NormalizerOptions {
                clean_text: spec.normalizer.clean_text,
                handle_chinese_chars: spec.normalizer.handle_chinese_chars,
                strip_accents: spec.normalizer.strip_accents,
                lowercase: spec.normalizer.lowercase,
            },
            unk_token: spec.unk_token.clone(),
            continuing_subword_prefix: spec.continuing_subword_prefix.clone(),
            max_input_chars_per_word: spec.max_input_chars_per_word,
            special_tokens: spec
                .added_tokens
                .iter()
                .map(|t| t.content.clone())
                .collect(),
            ..WordPieceOptions::default()
        };
        let entries = spec.vocab.iter().map(|(t, id)| (t.as_str(), *id));
        Self::from_vocab_entries(entries, options).map_err(|e| match e {
            Error::InvalidArgument(m) => Error::CorruptFile(format!("tokenizer.json: {m}")),
            e => e,
        })
    }

    /// Builds a tokenizer from `(token, id)` pairs in any order (a `tokenizer.json`'s
    /// `model.vocab` map). The ids must be exactly `0..n`, each once.
    ///
    /// Errors: [`Error::InvalidArgument`] for an id out of range (`>= n`) or given twice,
    /// otherwise as [`WordPieceTokenizer::from_tokens`].
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_vocab_entries<I, S>(entries: I, options: WordPieceOptions) -> Result<Self>
    where
        I: IntoIterator<Item = (S, u32)>,
        S: AsRef<str>,
    {
        let entries: Vec<(S, u32)> = entries.into_iter().collect();
        let n = entries.len();
        let mut slots: Vec<Option<&str>> = vec![None; n];
        for (token, id) in &entries {
            let token = token.as_ref();
            match slots.get_mut(*id as usize) {
                None => {
                    return Err(Error::InvalidArgument(format!(
                    "vocabulary id {id} of token {} is out of range: {n} tokens have ids 0..{n}",
                    Quoted(token)
                )))
                }
                Some(Some(other)) => {
                    return Err(Error::InvalidArgument(format!(
                        "vocabulary id {id} is given to both {} and {}",
                        Quoted(other),
                        Quoted(token)
                    )))
                }
                Some(slot) => *slot = Some(token),
            }
        }
        // Every slot is filled: n ids, all distinct and below n.
        let tokens: Vec<&str> = slots.into_iter().map(|s| s.unwrap_or("")).collect();
        Self::from_tokens(&tokens, options)
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn build(vocab: Vocab, options: WordPieceOptions) -> Result<Self> {
        let id_of = |what: &str, token: &str| {
            vocab.get(token.as_bytes()).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "the {what} token {} is not in the vocabulary",
                    Quoted(token)
                ))
            })
        };
        let unk = id_of("unknown", &options.unk_token)?;
        let cls = id_of("[CLS]", &options.cls_token)?;
        let sep = id_of("[SEP]", &options.sep_token)?;
        let mut specials = Vec::with_capacity(options.special_tokens.len());
        let mut special_first = [false; 256];
        for s in &options.special_tokens {
            let id = id_of("special", s)?;
            let Some(&first) = s.as_bytes().first() else {
                return Err(Error::InvalidArgument("a special token is empty".into()));
            };
            special_first[first as usize] = true;
            specials.push((s.as_bytes().to_vec(), id));
        }
        if options.continuing_subword_prefix.len() > MAX_PREFIX_LEN {
            return Err(Error::InvalidArgument(format!(
                "continuing_subword_prefix is {} bytes long, more than {MAX_PREFIX_LEN}",
                options.continuing_subword_prefix.len()
            )));
        }
        if options.max_input_chars_per_word == 0
            || options.max_input_chars_per_word > MAX_WORD_CHARS_LIMIT
        {
            return Err(Error::InvalidArgument(format!(
                "max_input_chars_per_word is {}, expected 1..={MAX_WORD_CHARS_LIMIT}",
                options.max_input_chars_per_word
            )));
        }
        let mut tok = WordPieceTokenizer {
            vocab,
            strip: options.normalizer.strips_accents(),
            options,
            unk,
            cls,
            sep,
            specials,
            special_first,
            ascii: [AsciiSlot(0, 0); 128],
        };
        for b in 0..128u8 {
            tok.ascii[b as usize] = tok.ascii_action(b);
        }
        Ok(tok)
    }

    /// What the general path does to an ASCII char, so the fast path can skip it.
    fn ascii_action(&self, b: u8) -> AsciiSlot {
        let norm = &self.options.normalizer;
        let mut c = b as char;
        if norm.clean_text {
            match unicode::clean(c) {
                Clean::Remove => return AsciiSlot(0, 0),
                Clean::Space => c = ' ',
                Clean::Keep => {}
            }
        }
        if norm.lowercase {
            if let Lower::One(l) = unicode::lowercase(c) {
                c = l;
            }
        }
        if unicode::is_split_whitespace(c) {
            AsciiSlot(1, 0)
        } else if unicode::is_punctuation(c) {
            AsciiSlot(2, c as u8)
        } else {
            AsciiSlot(3, c as u8)
        }
    }

    /// The number of tokens in the vocabulary (ids are `0..vocab_size()`).
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The id of the first token (`[CLS]`).
    pub fn cls_id(&self) -> u32 {
        self.cls
    }

    /// The id of the last token (`[SEP]`).
    pub fn sep_id(&self) -> u32 {
        self.sep
    }

    /// The id of the unknown token (`[UNK]`).
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// The options this tokenizer was built with.
    pub fn options(&self) -> &WordPieceOptions {
        &self.options
    }

    /// The token with this id.
    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab.token(id)
    }

    /// The id of this exact token (`"##ing"` for a continuing piece).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token.as_bytes())
    }

    /// The token ids of `text`: `[CLS]`, the pieces, `[SEP]`, at most `max_tokens` in all
    /// (`usize::MAX`: no truncation).
    ///
    /// Errors: [`Error::InvalidArgument`] when `max_tokens < 2` (no room for `[CLS]` and
    /// `[SEP]`).
    pub fn encode(&self, text: &str, max_tokens: usize) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.encode_into(text, max_tokens, &mut out)?;
        Ok(out)
    }

    /// [`encode`](Self::encode) into `out` (cleared first), reusing its allocation: with
    /// enough capacity, and the default `max_input_chars_per_word`, nothing is allocated.
    pub fn encode_into(&self, text: &str, max_tokens: usize, out: &mut Vec<u32>) -> Result<()> {
        if max_tokens < 2 {
            return Err(Error::InvalidArgument(format!(
                "max_tokens is {max_tokens}: at least 2 are needed for [CLS] and [SEP]"
            )));
        }
        out.clear();
        out.push(self.cls);
        let prefix = self.options.continuing_subword_prefix.len();
        let need = prefix + 4 * self.options.max_input_chars_per_word;
        let mut stack = [0u8; STACK_WORD_BUFFER];
        let mut heap = Vec::new();
        let buf: &mut [u8] = if need <= STACK_WORD_BUFFER {
            &mut stack[..need]
        } else {
            heap.resize(need, 0);
            &mut heap
        };
        let mut run = Run {
            tok: self,
            out,
            limit: max_tokens - 1,
            buf,
            prefix,
            max_chars: self.options.max_input_chars_per_word,
            words: None,
            len: 0,
            chars: 0,
            run_start: 0,
            full: false,
        };
        run.text(text);
        out.push(self.sep);
        Ok(())
    }

    /// The words WordPiece sees, for debugging: `text` normalized and pre-tokenized (special
    /// tokens as themselves), before any `[UNK]` or truncation. HF `tokenizers` gives the same
    /// with `normalize_str` and `pre_tokenize_str` on each part between special tokens.
    pub fn words(&self, text: &str) -> Vec<String> {
        let prefix = self.options.continuing_subword_prefix.len();
        // Normalization grows a char 14 times at most (a 2-byte char into 7 of 4 bytes).
        let mut buf = vec![0u8; text.len().saturating_mul(16).saturating_add(prefix + 64)];
        let mut ids = Vec::new();
        let mut words = Vec::new();
        let mut run = Run {
            tok: self,
            out: &mut ids,
            limit: usize::MAX,
            buf: &mut buf,
            prefix,
            max_chars: usize::MAX,
            words: Some(&mut words),
            len: 0,
            chars: 0,
            run_start: 0,
            full: false,
        };
        run.text(text);
        words
    }

    /// [`encode`](Self::encode) for bytes that may not be UTF-8 (the C and wasm boundary):
    /// each maximal invalid subsequence is replaced by one U+FFFD first, as
    /// [`String::from_utf8_lossy`] and Python's `bytes.decode("utf-8", "replace")` do.
    pub fn encode_bytes(&self, bytes: &[u8], max_tokens: usize) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.encode_bytes_into(bytes, max_tokens, &mut out)?;
        Ok(out)
    }

    /// [`encode_bytes`](Self::encode_bytes) into `out` (cleared first). Valid UTF-8 is not
    /// copied.
    pub fn encode_bytes_into(
        &self,
        bytes: &[u8],
        max_tokens: usize,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        let text: Cow<'_, str> = String::from_utf8_lossy(bytes);
        self.encode_into(&text, max_tokens, out)
    }

    /// The tokens of `text` as strings (`"[CLS]"`, `"hello"`, `"##s"`, ...): for debugging.
    pub fn tokens(&self, text: &str, max_tokens: usize) -> Result<Vec<&str>> {
        let ids = self.encode(text, max_tokens)?;
        Ok(ids
            .iter()
            .map(|&id| self.vocab.token(id).unwrap_or(""))
            .collect())
    }

    /// The special token matched at the start of `rest`, leftmost-longest: (length, id).
    fn special_at(&self, rest: &[u8]) -> Option<(usize, u32)> {
        let mut best: Option<(usize, u32)> = None;
        for (s, id) in &self.specials {
            if rest.starts_with(s) && best.is_none_or(|(len, _)| s.len() > len) {
                best = Some((s.len(), *id));
            }
        }
        best
    }
}

/// The state of one `encode` call: the word being built and the ids so far.
struct Run<'a> {
    tok: &'a WordPieceTokenizer,
    out: &'a mut Vec<u32>,
    /// `out` stops growing at this length (`[SEP]` comes after).
    limit: usize,
    /// The word being built lives at `buf[prefix..prefix + len]`.
    buf: &'a mut [u8],
    prefix: usize,
    /// Longer words are `[UNK]` (and not kept whole in `buf`).
    max_chars: usize,
    /// [`WordPieceTokenizer::words`]: collect the words instead of tokenizing them.
    words: Option<&'a mut Vec<String>>,
    len: usize,
    /// Chars in the word (it may have more than the buffer keeps: then it is `[UNK]`).
    chars: usize,
    /// Where in the word the kept combining marks since the last starter begin (NFD
    /// reorders them by combining class).
    run_start: usize,
    /// `out` is full: stop.
    full: bool,
}

impl Run<'_> {
    /// Tokenizes `text`: special tokens, and the segments between them.
    fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut seg_start = 0;
        let mut i = 0;
        if !self.tok.specials.is_empty() {
            while i < bytes.len() && !self.full {
                let b = bytes[i];
                if self.tok.special_first[b as usize] {
                    if let Some((len, id)) = self.tok.special_at(&bytes[i..]) {
                        self.segment(text.get(seg_start..i).unwrap_or(""));
                        if let Some(words) = self.words.as_deref_mut() {
                            let s = bytes.get(i..i + len).unwrap_or(&[]);
                            words.push(String::from_utf8_lossy(s).into_owned());
                        } else if !self.full {
                            self.emit(id);
                        }
                        i += len;
                        seg_start = i;
                        continue;
                    }
                }
                i += 1;
            }
        }
        if !self.full {
            self.segment(text.get(seg_start..).unwrap_or(""));
        }
    }

    /// Appends one id; `full` once the limit is reached.
    fn emit(&mut self, id: u32) {
        if self.out.len() < self.limit {
            self.out.push(id);
        }
        if self.out.len() >= self.limit {
            self.full = true;
        }
    }

    /// Normalizes, pre-tokenizes and tokenizes a text without special tokens.
    fn segment(&mut self, seg: &str) {
        let tok = self.tok;
        let norm = &tok.options.normalizer;
        self.run_start = self.len;
        for c in seg.chars() {
            if self.full {
                return;
            }
            if let Some(slot) = tok.ascii.get(c as usize) {
                match slot.get() {
                    Ascii::Drop => {}
                    Ascii::Split => self.flush(),
                    Ascii::Punct => {
                        self.flush();
                        self.push_char(c);
                        self.flush();
                    }
                    Ascii::Letter(b) => self.push_ascii(b),
                }
                continue;
            }
            let mut c = c;
            if norm.clean_text {
                match unicode::clean(c) {
                    Clean::Remove => continue,
                    Clean::Space => c = ' ',
                    Clean::Keep => {}
                }
            }
            if norm.handle_chinese_chars && unicode::is_chinese(c) {
                self.kept(' ', 0);
                self.stripped(c);
                self.kept(' ', 0);
            } else {
                self.stripped(c);
            }
        }
        self.flush();
    }

    /// `strip_accents` (when on) of one char.
    fn stripped(&mut self, c: char) {
        if !self.tok.strip {
            self.kept(c, 0);
            return;
        }
        match unicode::strip_accents(c) {
            Strip::Keep(ccc) => self.kept(c, ccc),
            Strip::Drop { starter } => {
                if starter {
                    self.run_start = self.len;
                }
            }
            Strip::Decompose {
                starter,
                chars,
                len,
            } => {
                if starter {
                    self.run_start = self.len;
                }
                for &e in chars.get(..len).unwrap_or(&[]) {
                    self.kept(e, unicode::kept_combining_class(e));
                }
            }
        }
    }

    /// A char after `strip_accents`: lowercase a starter and classify it; put a combining
    /// mark where NFD's canonical ordering puts it.
    fn kept(&mut self, c: char, ccc: u8) {
        if ccc != 0 {
            // Kept combining marks are neither whitespace nor punctuation and lowercase to
            // themselves (gen_tables.py checks).
            self.push_combining(c, ccc);
            return;
        }
        if self.tok.options.normalizer.lowercase {
            match unicode::lowercase(c) {
                Lower::One(l) => self.classified(l),
                Lower::Many(s) => {
                    for l in s.chars() {
                        self.classified(l);
                    }
                }
            }
        } else {
            self.classified(c);
        }
        self.run_start = self.len;
    }

    /// The pre-tokenizer on one normalized char.
    fn classified(&mut self, c: char) {
        if unicode::is_split_whitespace(c) {
            self.flush();
        } else if unicode::is_punctuation(c) {
            self.flush();
            self.push_char(c);
            self.flush();
        } else {
            self.push_char(c);
        }
    }

    #[inline]
    fn push_ascii(&mut self, b: u8) {
        self.chars += 1;
        if let Some(slot) = self.buf.get_mut(self.prefix + self.len) {
            *slot = b;
            self.len += 1;
        }
        self.run_start = self.len;
    }

    fn push_char(&mut self, c: char) {
        self.chars += 1;
        if self.chars > self.max_chars {
            return; // the word is [UNK] anyway
        }
        let at = self.prefix + self.len;
        let n = c.len_utf8();
        if let Some(dst) = self.buf.get_mut(at..at + n) {
            c.encode_utf8(dst);
            self.len += n;
        }
    }

    /// Inserts a kept combining mark after the marks of the current run with a combining
    /// class not above its own (NFD's stable canonical ordering).
    fn push_combining(&mut self, c: char, ccc: u8) {
        self.chars += 1;
        if self.chars > self.max_chars {
            return;
        }
        let n = c.len_utf8();
        let word_end = self.prefix + self.len;
        let Some(run) = self.buf.get(self.prefix + self.run_start..word_end) else {
            return;
        };
        let mut at = run.len();
        if let Ok(s) = core::str::from_utf8(run) {
            if let Some((pos, _)) = s
                .char_indices()
                .find(|&(_, m)| unicode::kept_combining_class(m) > ccc)
            {
                at = pos;
            }
        }
        let at = self.prefix + self.run_start + at;
        if word_end + n > self.buf.len() {
            return;
        }
        self.buf.copy_within(at..word_end, at + n);
        if let Some(dst) = self.buf.get_mut(at..at + n) {
            c.encode_utf8(dst);
        }
        self.len += n;
    }

    /// Tokenizes the word built so far and starts a new one.
    fn flush(&mut self) {
        if self.chars == 0 {
            return;
        }
        let chars = self.chars;
        let len = self.len;
        self.chars = 0;
        self.len = 0;
        self.run_start = 0;
        if let Some(words) = self.words.as_deref_mut() {
            let p = self.prefix;
            let w = self.buf.get(p..p + len).unwrap_or(&[]);
            words.push(String::from_utf8_lossy(w).into_owned());
            return;
        }
        if self.full {
            return;
        }
        let mark = self.out.len();
        if chars > self.max_chars || !self.wordpiece(len) {
            self.out.truncate(mark);
            self.out.push(self.tok.unk);
        }
        if self.out.len() >= self.limit {
            self.out.truncate(self.limit);
            self.full = true;
        }
    }

    /// Greedy longest-match-first WordPiece of the word `buf[prefix..prefix + len]`, its
    /// pieces appended to `out`; false when some part matches no piece.
    fn wordpiece(&mut self, len: usize) -> bool {
        let vocab = &self.tok.vocab;
        let p = self.prefix;
        let prefix = self.tok.options.continuing_subword_prefix.as_bytes();
        // A char boundary of the word (its end included; the buffer goes on past it).
        let word_end = p + len;
        let is_boundary =
            |buf: &[u8], i: usize| i >= word_end || buf.get(i).is_none_or(|&b| (b as i8) >= -0x40);
        let mut start = 0;
        while start < len {
            // Later pieces: write the prefix just before them, over bytes already consumed.
            let key_start = if start == 0 {
                p
            } else {
                match self.buf.get_mut(start..start + p) {
                    Some(dst) => dst.copy_from_slice(prefix),
                    None => return false,
                }
                start
            };
            // No token is longer than the vocabulary's longest.
            let mut end = if start == 0 {
                len.min(vocab.max_len())
            } else {
                len.min(start + vocab.max_len().saturating_sub(p))
            };
            while end > start && !is_boundary(self.buf, p + end) {
                end -= 1;
            }
            // The hash states of every prefix of the longest candidate, in one pass.
            let window = self.buf.get(key_start..p + end).unwrap_or(&[]);
            let mut states = [0u64; HASH_WINDOW + 1];
            let precomputed = window.len() <= HASH_WINDOW;
            if precomputed {
                states[0] = vocab::HASH_START;
                for (k, &b) in window.iter().enumerate() {
                    states[k + 1] = vocab::hash_byte(states[k], b);
                }
            }
            let found = loop {
                if end <= start {
                    break None;
                }
                if let Some(key) = self.buf.get(key_start..p + end) {
                    let h = match states.get(key.len()) {
                        Some(&state) if precomputed => vocab::hash_finish(state),
                        _ => vocab::hash(key),
                    };
                    if let Some(id) = vocab.get_hashed(key, h) {
                        break Some(id);
                    }
                }
                end -= 1;
                while end > start && !is_boundary(self.buf, p + end) {
                    end -= 1;
                }
            };
            match found {
                Some(id) => self.out.push(id),
                None => return false,
            }
            start = end;
        }
        true
    }
}
