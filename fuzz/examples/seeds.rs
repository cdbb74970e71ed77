//! Writes the committed seed corpora (`corpus/<target>/`): `cargo run --example seeds` from
//! fuzz/. Small on purpose: libFuzzer grows its own corpus from these while it runs.

use std::fs;
use std::path::Path;

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Storage};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn index(options: IndexOptions, n: u64) -> Vec<u8> {
    let dims = options.dims;
    let mut ix = Index::new(options).expect("valid options");
    for key in 0..n {
        let v: Vec<f32> = (0..dims)
            .map(|i| ((key as usize * 7 + i * 3) % 11) as f32 - 5.0)
            .collect();
        ix.add(key * 3 + 1, &v).expect("add");
    }
    if n > 2 {
        ix.remove(4).expect("key 4 exists");
    }
    ix.to_bytes().expect("save")
}

/// A tiny random BERT checkpoint as an `encoder_files` input (see `src/encoder.rs`): flags,
/// config.json, optional pooling config, a batch, then the safetensors file with its u64
/// header length replaced by the harness's u16 (the harness writes it back).
struct TinyBert {
    vocab: usize,
    hidden: usize,
    heads: usize,
    layers: usize,
    inter: usize,
    max_pos: usize,
    /// "F32", "F16" or "BF16".
    dtype: &'static str,
    /// "" or "bert.".
    prefix: &'static str,
    gamma_beta: bool,
}

impl TinyBert {
    fn config_json(&self) -> String {
        format!(
            r#"{{"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": {}, "intermediate_size": {}, "layer_norm_eps": 1e-12, "max_position_embeddings": {}, "model_type": "bert", "num_attention_heads": {}, "num_hidden_layers": {}, "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": {}}}"#,
            self.hidden, self.inter, self.max_pos, self.heads, self.layers, self.vocab
        )
    }

    /// Tensor names and shapes, canonical (no prefix, weight/bias).
    fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (h, i) = (self.hidden, self.inter);
        let mut out = vec![
            (
                "embeddings.word_embeddings.weight".to_string(),
                vec![self.vocab, h],
            ),
            (
                "embeddings.position_embeddings.weight".into(),
                vec![self.max_pos, h],
            ),
            ("embeddings.token_type_embeddings.weight".into(), vec![2, h]),
            ("embeddings.LayerNorm.weight".into(), vec![h]),
            ("embeddings.LayerNorm.bias".into(), vec![h]),
        ];
        for l in 0..self.layers {
            let p = format!("encoder.layer.{l}.");
            for part in [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
            ] {
                out.push((format!("{p}{part}.weight"), vec![h, h]));
                out.push((format!("{p}{part}.bias"), vec![h]));
            }
            out.push((format!("{p}attention.output.LayerNorm.weight"), vec![h]));
            out.push((format!("{p}attention.output.LayerNorm.bias"), vec![h]));
            out.push((format!("{p}intermediate.dense.weight"), vec![i, h]));
            out.push((format!("{p}intermediate.dense.bias"), vec![i]));
            out.push((format!("{p}output.dense.weight"), vec![h, i]));
            out.push((format!("{p}output.dense.bias"), vec![h]));
            out.push((format!("{p}output.LayerNorm.weight"), vec![h]));
            out.push((format!("{p}output.LayerNorm.bias"), vec![h]));
        }
        out
    }

    /// The safetensors header and data of random weights (seed `seed`), LayerNorm gains near 1.
    fn safetensors(&self, seed: u64) -> (String, Vec<u8>) {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut header = String::from(r#"{"__metadata__":{"format":"pt"}"#);
        let mut data = Vec::new();
        for (name, shape) in self.shapes() {
            let n: usize = shape.iter().product();
            let gain = name.contains("LayerNorm.weight");
            let mut name = format!("{}{name}", self.prefix);
            if self.gamma_beta {
                name = name
                    .replace("LayerNorm.weight", "LayerNorm.gamma")
                    .replace("LayerNorm.bias", "LayerNorm.beta");
            }
            let start = data.len();
            for _ in 0..n {
                let v = (if gain { 1.0 } else { 0.0 } + 0.5 * next()) as f32;
                match self.dtype {
                    "F32" => data.extend_from_slice(&v.to_le_bytes()),
                    "BF16" => data.extend_from_slice(&((v.to_bits() >> 16) as u16).to_le_bytes()),
                    // f16: sign, exponent 14 (0.5..1), 10 mantissa bits of |v|.
                    _ => {
                        let m = ((v.abs().clamp(0.5, 0.999) - 0.5) * 2048.0) as u16;
                        let sign = if v < 0.0 { 0x8000 } else { 0 };
                        data.extend_from_slice(&(sign | (14 << 10) | m).to_le_bytes());
                    }
                }
            }
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            header.push_str(&format!(
                r#","{name}":{{"dtype":"{}","shape":[{}],"data_offsets":[{start},{}]}}"#,
                self.dtype,
                dims.join(","),
                data.len()
            ));
        }
        header.push('}');
        (header, data)
    }

    fn input(&self, seed: u64, flags: u8, pooling: Option<&str>, batch: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![flags | u8::from(pooling.is_some())];
        let config = self.config_json();
        out.extend_from_slice(&(config.len() as u16).to_le_bytes());
        out.extend_from_slice(config.as_bytes());
        if let Some(p) = pooling {
            out.extend_from_slice(&(p.len() as u16).to_le_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        out.push(batch.len() as u8);
        for ids in batch {
            out.push(ids.len() as u8);
            out.extend_from_slice(ids);
        }
        let (header, data) = self.safetensors(seed);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&data);
        out
    }
}

/// A `tokenizer.json` of the WordPiece family over `tokens` (ids in order).
fn tokenizer_json(tokens: &[&str], lowercase: bool, truncation: Option<usize>) -> String {
    let vocab: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{:?}: {i}", t))
        .collect();
    let added: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .filter_map(|s| tokens.iter().position(|t| t == s).map(|i| (s, i)))
        .map(|(s, i)| format!(r#"{{"id": {i}, "content": "{s}", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}}"#))
        .collect();
    format!(
        r###"{{"version": "1.0", "truncation": {}, "padding": null, "added_tokens": [{}], "normalizer": {{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": {lowercase}}}, "pre_tokenizer": {{"type": "BertPreTokenizer"}}, "model": {{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {{{}}}}}}}"###,
        match truncation {
            Some(n) => format!(
                r#"{{"direction": "Right", "max_length": {n}, "strategy": "LongestFirst", "stride": 0}}"#
            ),
            None => "null".into(),
        },
        added.join(", "),
        vocab.join(", ")
    )
}

/// The first lines of all-MiniLM-L6-v2's `vocab.txt` ([PAD], [unused*], [UNK] 100, [CLS]
/// 101, [SEP] 102, [MASK] 103, then single characters) when the checkpoint is on this
/// machine (`make model`), for the tokenizer seed.
fn real_vocab_head(lines: usize) -> Option<String> {
    let dir = std::env::var("FERROVEC_MINILM_DIR").unwrap_or_else(|_| {
        format!(
            "{}/.cache/ferrovec/models/all-minilm-l6-v2",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let text = fs::read_to_string(Path::new(&dir).join("vocab.txt")).ok()?;
    Some(text.lines().take(lines).map(|l| format!("{l}\n")).collect())
}

/// A `tokenizer` input: option bytes, max_tokens, vocab.txt, text.
fn tokenizer_input(flags: u8, max_chars: u8, max_tokens: u16, vocab: &str, text: &[u8]) -> Vec<u8> {
    let mut out = vec![flags, max_chars];
    out.extend_from_slice(&max_tokens.to_le_bytes());
    out.extend_from_slice(&(vocab.len() as u16).to_le_bytes());
    out.extend_from_slice(vocab.as_bytes());
    out.extend_from_slice(text);
    out
}

fn main() {
    let hnsw = HnswParams {
        m: 4,
        ef_construction: 16,
        ef_search: 8,
        seed: 7,
    };
    let seeds = [
        (
            "exact_f32_cosine",
            index(IndexOptions::new(4, IndexMetric::Cosine).exact(), 6),
        ),
        (
            "exact_empty_l2",
            index(IndexOptions::new(3, IndexMetric::L2sq).exact(), 0),
        ),
        (
            "hnsw_f32_l2",
            index(IndexOptions::new(3, IndexMetric::L2sq).hnsw(hnsw), 12),
        ),
        (
            "hnsw_i8_ip",
            index(
                IndexOptions::new(5, IndexMetric::InnerProduct)
                    .storage(Storage::I8)
                    .hnsw(hnsw),
                9,
            ),
        ),
        (
            "exact_b1_hamming",
            index(
                IndexOptions::new(16, IndexMetric::Hamming)
                    .storage(Storage::B1)
                    .exact(),
                5,
            ),
        ),
    ];
    for (name, bytes) in &seeds {
        write("index_load", name, bytes);
    }

    let mm = [
        ("general", "%%MatrixMarket matrix coordinate real general\n% c\n3 3 4\n1 1 4.0\n2 2 5\n3 1 -1e-3\n3 3 2.5\n"),
        ("symmetric", "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n2 1 -1\n3 3 2\n"),
        ("skew_integer", "%%MatrixMarket matrix coordinate integer skew-symmetric\n2 2 1\n2 1 3\n"),
        ("pattern", "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n"),
        ("crlf_empty", "%%MatrixMarket matrix coordinate real general\r\n0 0 0\r\n"),
    ];
    for (name, text) in mm {
        write("matrix_market", name, text.as_bytes());
    }
    // The C API target reads Matrix Market text too (op 11).
    let mut capi_mm = vec![11u8, 120];
    capi_mm.extend_from_slice(mm[0].1.as_bytes());
    capi_mm.extend_from_slice(&[13, 0, 14, 0, 3, 1, 1, 1, 3, 3, 15, 0, 3, 3, 3, 3, 12, 0]);
    write("capi", "matrix_market_solve", &capi_mm);

    // CSR target: kind, n_rows, n_cols, nnz, [indptr], indices, values (see sparse::csr).
    let csr_seeds: [(&str, Vec<u8>); 5] = [
        (
            "from_csr",
            vec![
                0, 3, 3, 4, 0, 1, 2, 4, 0, 1, 1, 2, 100, 0, 120, 0, 130, 0, 140, 0,
            ],
        ),
        (
            "unsorted",
            vec![1, 2, 3, 3, 0, 2, 3, 2, 0, 1, 9, 9, 9, 9, 9, 9],
        ),
        (
            "triplets",
            vec![
                2, 3, 3, 3, 0, 1, 2, 3, 0, 1, 1, 50, 0, 60, 0, 70, 0, 0, 1, 0,
            ],
        ),
        (
            "edges_weighted",
            vec![
                0x43, 4, 4, 3, 0, 0, 0, 0, 3, 1, 2, 3, 200, 1, 200, 2, 200, 3, 0, 1, 2,
            ],
        ),
        ("graph_csr", vec![4, 3, 3, 3, 0, 1, 2, 3, 1, 2, 0]),
    ];
    for (name, bytes) in csr_seeds {
        write("csr", name, &bytes);
    }

    // C API: op bytes (see capi.rs): new index, adds, search, save, load, remove, compact,
    // free twice (the second is stale); matrices and graphs.
    let capi_seeds: [(&str, Vec<u8>); 4] = [
        (
            "index_roundtrip",
            vec![
                0, 4, 1, 0, 0, 4, 16, 8, 1, 0, 0, 0, 0, 0, 0, 0, //
                2, 0, 4, 130, 140, 150, 160, 1, 0, //
                2, 0, 4, 131, 120, 150, 161, 2, 0, //
                3, 0, 4, 130, 140, 150, 160, 5, //
                6, 0, 7, 0, 1, 4, 0, 5, 0, 1, 0, 1, 14, //
            ],
        ),
        (
            "hnsw_ops",
            vec![
                0, 3, 0, 0, 1, 4, 8, 8, 3, 0, 0, 0, 0, 0, 0, 0, //
                2, 0, 3, 130, 140, 150, 1, 0, 2, 0, 3, 131, 141, 151, 2, 0, //
                2, 0, 3, 132, 142, 152, 3, 0, 3, 0, 3, 130, 140, 150, 3, //
                4, 0, 2, 5, 0, 8, 0, 3, 0, 3, 130, 140, 150, 3,
            ],
        ),
        (
            "csr_cg",
            vec![
                9, 3, 3, 3, 1, 0, 1, 2, 3, 0, 1, 2, 160, 0, 160, 0, 160, 0, 1, //
                15, 0, 3, 140, 0, 140, 0, 140, 0, 3, 20, 1, 1, //
                17, 0, 3, 140, 0, 140, 0, 140, 0, 3, 20, 0, 1, 13, 0, 12, 0, 12, 14,
            ],
        ),
        (
            "graph_push",
            vec![
                18, 4, 4, 0, 1, 2, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, //
                23, 0, 21, 0, 1, 20, 1, 0, 5, 22, 0, 1, 200, 0, 8, //
                20, 0, 20, 14, 23, 14,
            ],
        ),
    ];
    for (name, bytes) in capi_seeds {
        write("capi", name, &bytes);
    }

    // wasm ABI: op bytes pick exports by sorted index; 0xF0.. writes memory.
    let abi_seeds: [(&str, Vec<u8>); 3] = [
        ("alloc_free", vec![1, 1, 32, 6, 0, 0, 2, 1, 0]),
        (
            "index_new_add",
            vec![
                18, 1, 4, 1, 1, 1, 2, 1, 0, 1, 0, 1, 8, 1, 8, 1, 8, 1, 1, 9, 0, 2, 3, 0, 5,
            ],
        ),
        (
            "write_and_load",
            vec![
                1, 1, 100, 0xF0, 2, 40, b'F', b'V', b'I', b'X', 1, 0, 0, 0, 17, 0, 2, 0, 1, 40, 1,
                0,
            ],
        ),
    ];
    for (name, bytes) in abi_seeds {
        write("wasm_abi", name, &bytes);
    }
    // Encoder model files: tiny random checkpoints (f32 mean pooling; bf16 with the `bert.`
    // prefix, gamma/beta names and CLS pooling; f16 at an odd offset, with a
    // sentence_bert_config; a verbatim file whose header length is wrong).
    let small = TinyBert {
        vocab: 12,
        hidden: 8,
        heads: 2,
        layers: 1,
        inter: 16,
        max_pos: 8,
        dtype: "F32",
        prefix: "",
        gamma_beta: false,
    };
    let mean = r#"{"word_embedding_dimension": 8, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}"#;
    let cls = r#"{"word_embedding_dimension": 12, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false}"#;
    write(
        "encoder_files",
        "f32_mean",
        &small.input(1, 32, Some(mean), &[&[1, 5, 7, 2], &[1, 2]]),
    );
    let other = TinyBert {
        vocab: 9,
        hidden: 12,
        heads: 3,
        layers: 2,
        inter: 8,
        max_pos: 6,
        dtype: "BF16",
        prefix: "bert.",
        gamma_beta: true,
    };
    write(
        "encoder_files",
        "bf16_cls_bert_prefix",
        &other.input(2, 0, Some(cls), &[&[0, 3, 8, 1, 2, 4], &[0xFF, 1]]),
    );
    let f16 = TinyBert {
        dtype: "F16",
        ..small
    };
    let mut f16_input = f16.input(3, 2 | 4, None, &[&[3, 4, 12]]);
    // Flag bit 1: a sentence_bert_config follows the config (inserted after it).
    let sbert = br#"{"max_seq_length": 6, "do_lower_case": false}"#;
    let at = 3 + f16.config_json().len();
    let mut piece = (sbert.len() as u16).to_le_bytes().to_vec();
    piece.extend_from_slice(sbert);
    f16_input.splice(at..at, piece);
    write("encoder_files", "f16_sbert_misaligned", &f16_input);
    let mut verbatim = small.input(4, 16, None, &[&[1, 2]]);
    let tail = verbatim.len() - small.safetensors(4).1.len() - small.safetensors(4).0.len() - 2;
    verbatim.splice(tail..tail + 2, 9999u64.to_le_bytes());
    write("encoder_files", "verbatim_bad_header_len", &verbatim);

    // Tokenizer: the real vocabulary's first lines (ids 0-1999: specials, single characters,
    // the first words), else a small hand-made one.
    let fallback = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\nun\n##aff\n##able\n,\n!\n.\ncafe\n\u{4e2d}\n";
    let vocab = real_vocab_head(2000).unwrap_or_else(|| fallback.to_string());
    write(
        "tokenizer",
        "real_vocab_head",
        &tokenizer_input(
            1,
            0,
            512,
            &vocab,
            "Hello, World! [MASK] Caf\u{e9} na\u{ef}ve \u{4e2d}\u{6587} a\tb\u{200b}c 1.5"
                .as_bytes(),
        ),
    );
    write(
        "tokenizer",
        "small_truncated_invalid_utf8",
        &tokenizer_input(1, 5, 4, fallback, b"hello unaffable world\xff\xc0 \xe2\x82"),
    );
    write(
        "tokenizer",
        "cased_empty_prefix",
        &tokenizer_input(
            0x20 | 0x10 | 0x80,
            3,
            0xFFFF,
            fallback,
            "HELLO [CLS] x\u{301}".as_bytes(),
        ),
    );

    // tokenizer.json: a small uncased one with truncation, and a cased one without.
    let tokens: Vec<&str> = fallback.lines().collect();
    write(
        "tokenizer_json",
        "uncased_truncated",
        tokenizer_json(&tokens, true, Some(8)).as_bytes(),
    );
    write(
        "tokenizer_json",
        "cased",
        tokenizer_json(&tokens, false, None).as_bytes(),
    );
    write(
        "tokenizer_json",
        "minimal",
        br#"{"normalizer": {"type": "BertNormalizer"}, "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3}}}"#,
    );
}
