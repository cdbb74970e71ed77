//! Tiny random BERT checkpoints built in the test (safetensors bytes, config.json, pooling
//! config) and an independent f64 forward pass to hold the encoder to: plain loops over
//! the tensors by name, `libm`'s `erf`/`exp`, nothing shared with the code under test.

#![allow(dead_code)] // each test binary uses what it needs

use std::collections::HashMap;
use std::fmt::Write;

// The including test binary declares `support/rng.rs` as `mod rng`.
pub use crate::rng::Rng;

/// The shape and storage of a tiny model.
#[derive(Debug, Clone)]
pub struct Spec {
    pub vocab: usize,
    pub hidden: usize,
    pub heads: usize,
    pub layers: usize,
    pub inter: usize,
    pub max_pos: usize,
    pub type_vocab: usize,
    pub eps: f64,
    pub cls: bool,
    /// "F32", "F16" or "BF16".
    pub dtype: &'static str,
    /// "" or "bert.".
    pub prefix: &'static str,
    /// LayerNorm parameters named gamma/beta (old checkpoints) instead of weight/bias.
    pub gamma_beta: bool,
    /// `(8 + header length) % 8`: 0 gives 8-byte aligned data, 2 misaligns f32 data.
    pub data_offset_mod8: usize,
}

impl Spec {
    /// hidden 32, 4 heads, 2 layers, intermediate 64, vocab 50, 40 positions, mean, f32.
    pub fn small() -> Spec {
        Spec {
            vocab: 50,
            hidden: 32,
            heads: 4,
            layers: 2,
            inter: 64,
            max_pos: 40,
            type_vocab: 2,
            eps: 1e-12,
            cls: false,
            dtype: "F32",
            prefix: "",
            gamma_beta: false,
            data_offset_mod8: 0,
        }
    }

    /// hidden 48, 3 heads, 3 layers, intermediate 80, vocab 61, 33 positions, CLS pooling,
    /// bf16 weights, `bert.` prefix, gamma/beta names, eps 1e-5.
    pub fn other() -> Spec {
        Spec {
            vocab: 61,
            hidden: 48,
            heads: 3,
            layers: 3,
            inter: 80,
            max_pos: 33,
            type_vocab: 1,
            eps: 1e-5,
            cls: true,
            dtype: "BF16",
            prefix: "bert.",
            gamma_beta: true,
            data_offset_mod8: 0,
        }
    }

    pub fn config_json(&self) -> String {
        format!(
            r#"{{"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": {}, "intermediate_size": {},
 "layer_norm_eps": {:e}, "max_position_embeddings": {}, "model_type": "bert", "num_attention_heads": {},
 "num_hidden_layers": {}, "position_embedding_type": "absolute", "type_vocab_size": {}, "vocab_size": {}}}"#,
            self.hidden,
            self.inter,
            self.eps,
            self.max_pos,
            self.heads,
            self.layers,
            self.type_vocab,
            self.vocab
        )
    }

    pub fn pooling_json(&self) -> String {
        format!(
            r#"{{"word_embedding_dimension": {}, "pooling_mode_cls_token": {}, "pooling_mode_mean_tokens": {}, "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}}"#,
            self.hidden, self.cls, !self.cls
        )
    }
}

/// One tensor: canonical name (no prefix, weight/bias), shape, and the exact values stored.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Rounds to a value the storage dtype holds exactly.
fn quantize(v: f64, dtype: &str) -> f32 {
    match dtype {
        "F32" => v as f32,
        // Multiples of 2^-10 below 1 in magnitude: 11 significant bits, normal range.
        "F16" => ((v * 1024.0).round() / 1024.0).clamp(-1.0, 1.0) as f32,
        "BF16" => f32::from_bits((v as f32).to_bits() & 0xffff_0000),
        _ => panic!("dtype {dtype}"),
    }
}

fn f32_to_f16_exact(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    if x == 0.0 {
        return sign;
    }
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    assert!(
        (1..31).contains(&exp) && b & 0x1fff == 0,
        "{x} is not an exact f16"
    );
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
}

/// Random weights of the model `spec`, canonical names.
pub fn tensors(spec: &Spec, seed: u64) -> Vec<Tensor> {
    let mut rng = Rng(seed);
    let (h, i) = (spec.hidden, spec.inter);
    let mut out = Vec::new();
    let mut add = |name: String, shape: Vec<usize>, scale: f64, offset: f64, rng: &mut Rng| {
        let n: usize = shape.iter().product();
        let values = (0..n)
            .map(|_| quantize(offset + scale * rng.value(), spec.dtype))
            .collect();
        out.push(Tensor {
            name,
            shape,
            values,
        });
    };
    add(
        "embeddings.word_embeddings.weight".into(),
        vec![spec.vocab, h],
        1.0,
        0.0,
        &mut rng,
    );
    add(
        "embeddings.position_embeddings.weight".into(),
        vec![spec.max_pos, h],
        0.5,
        0.0,
        &mut rng,
    );
    add(
        "embeddings.token_type_embeddings.weight".into(),
        vec![spec.type_vocab, h],
        0.3,
        0.0,
        &mut rng,
    );
    add(
        "embeddings.LayerNorm.weight".into(),
        vec![h],
        0.2,
        1.0,
        &mut rng,
    );
    add(
        "embeddings.LayerNorm.bias".into(),
        vec![h],
        0.1,
        0.0,
        &mut rng,
    );
    let wh = 1.5 / (h as f64).sqrt();
    let wi = 1.5 / (i as f64).sqrt();
    for l in 0..spec.layers {
        let p = format!("encoder.layer.{l}.");
        for part in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ] {
            add(format!("{p}{part}.weight"), vec![h, h], wh, 0.0, &mut rng);
            add(format!("{p}{part}.bias"), vec![h], 0.1, 0.0, &mut rng);
        }
        add(
            format!("{p}attention.output.LayerNorm.weight"),
            vec![h],
            0.2,
            1.0,
            &mut rng,
        );
        add(
            format!("{p}attention.output.LayerNorm.bias"),
            vec![h],
            0.1,
            0.0,
            &mut rng,
        );
        add(
            format!("{p}intermediate.dense.weight"),
            vec![i, h],
            wh,
            0.0,
            &mut rng,
        );
        add(
            format!("{p}intermediate.dense.bias"),
            vec![i],
            0.1,
            0.0,
            &mut rng,
        );
        add(
            format!("{p}output.dense.weight"),
            vec![h, i],
            wi,
            0.0,
            &mut rng,
        );
        add(format!("{p}output.dense.bias"), vec![h], 0.1, 0.0, &mut rng);
        add(
            format!("{p}output.LayerNorm.weight"),
            vec![h],
            0.2,
            1.0,
            &mut rng,
        );
        add(
            format!("{p}output.LayerNorm.bias"),
            vec![h],
            0.1,
            0.0,
            &mut rng,
        );
    }
    out
}

/// One entry of a safetensors file, already encoded.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

pub fn encode(values: &[f32], dtype: &str) -> Vec<u8> {
    match dtype {
        "F32" => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        "F16" => values
            .iter()
            .flat_map(|v| f32_to_f16_exact(*v).to_le_bytes())
            .collect(),
        "BF16" => values
            .iter()
            .flat_map(|v| ((v.to_bits() >> 16) as u16).to_le_bytes())
            .collect(),
        _ => panic!("dtype {dtype}"),
    }
}

/// The checkpoint's entries as the spec names and stores them, plus the tensors BERT
/// checkpoints carry that the encoder ignores (position_ids int64, the pooler).
pub fn entries(spec: &Spec, tensors: &[Tensor]) -> Vec<Entry> {
    let mut out: Vec<Entry> = tensors
        .iter()
        .map(|t| {
            let mut name = format!("{}{}", spec.prefix, t.name);
            if spec.gamma_beta && name.contains("LayerNorm") {
                name = name
                    .replace("LayerNorm.weight", "LayerNorm.gamma")
                    .replace("LayerNorm.bias", "LayerNorm.beta");
            }
            Entry {
                name,
                dtype: spec.dtype.into(),
                shape: t.shape.clone(),
                bytes: encode(&t.values, spec.dtype),
            }
        })
        .collect();
    out.push(Entry {
        name: format!("{}embeddings.position_ids", spec.prefix),
        dtype: "I64".into(),
        shape: vec![1, spec.max_pos],
        bytes: (0..spec.max_pos as i64)
            .flat_map(|p| p.to_le_bytes())
            .collect(),
    });
    out.push(Entry {
        name: format!("{}pooler.dense.weight", spec.prefix),
        dtype: "F32".into(),
        shape: vec![spec.hidden, spec.hidden],
        bytes: vec![0; spec.hidden * spec.hidden * 4],
    });
    out
}

/// A safetensors file of `entries`, data in entry order; the header is padded with spaces
/// so that `(8 + header length) % 8 == data_offset_mod8`.
pub fn write(entries: &[Entry], data_offset_mod8: usize) -> Vec<u8> {
    let mut header = String::from(r#"{"__metadata__":{"format":"pt"}"#);
    let mut offset = 0;
    for e in entries {
        let shape: Vec<String> = e.shape.iter().map(|d| d.to_string()).collect();
        write!(
            header,
            r#","{}":{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}}"#,
            e.name,
            e.dtype,
            shape.join(","),
            offset,
            offset + e.bytes.len()
        )
        .unwrap();
        offset += e.bytes.len();
    }
    header.push('}');
    while (8 + header.len()) % 8 != data_offset_mod8 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    for e in entries {
        out.extend_from_slice(&e.bytes);
    }
    out
}

/// The safetensors bytes of a random model.
pub fn model_bytes(spec: &Spec, seed: u64) -> (Vec<u8>, Vec<Tensor>) {
    let t = tensors(spec, seed);
    (write(&entries(spec, &t), spec.data_offset_mod8), t)
}

// ------------------------------------------------------------------ f64 reference

fn layer_norm(x: &mut [f64], g: &[f32], b: &[f32], eps: f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for (j, v) in x.iter_mut().enumerate() {
        *v = (*v - mean) * inv * g[j] as f64 + b[j] as f64;
    }
}

/// `y = W x + b` for `W` `[out, in]`.
fn linear(x: &[f64], w: &[f32], b: &[f32]) -> Vec<f64> {
    let n_in = x.len();
    (0..b.len())
        .map(|o| {
            b[o] as f64
                + (0..n_in)
                    .map(|k| w[o * n_in + k] as f64 * x[k])
                    .sum::<f64>()
        })
        .collect()
}

/// The sentence vector of `ids` by the textbook BERT forward pass, in f64.
pub fn reference(spec: &Spec, tensors: &[Tensor], ids: &[u32]) -> Vec<f64> {
    let w: HashMap<&str, &[f32]> = tensors
        .iter()
        .map(|t| (t.name.as_str(), t.values.as_slice()))
        .collect();
    let (h, heads) = (spec.hidden, spec.heads);
    let d = h / heads;
    let n = ids.len();
    let mut x: Vec<Vec<f64>> = (0..n)
        .map(|p| {
            let id = ids[p] as usize;
            let mut row: Vec<f64> = (0..h)
                .map(|j| {
                    w["embeddings.word_embeddings.weight"][id * h + j] as f64
                        + w["embeddings.position_embeddings.weight"][p * h + j] as f64
                        + w["embeddings.token_type_embeddings.weight"][j] as f64
                })
                .collect();
            layer_norm(
                &mut row,
                w["embeddings.LayerNorm.weight"],
                w["embeddings.LayerNorm.bias"],
                spec.eps,
            );
            row
        })
        .collect();
    for l in 0..spec.layers {
        let p = |s: &str| format!("encoder.layer.{l}.{s}");
        let lin = |x: &[f64], s: &str| {
            linear(
                x,
                w[p(&format!("{s}.weight")).as_str()],
                w[p(&format!("{s}.bias")).as_str()],
            )
        };
        let q: Vec<Vec<f64>> = x.iter().map(|r| lin(r, "attention.self.query")).collect();
        let k: Vec<Vec<f64>> = x.iter().map(|r| lin(r, "attention.self.key")).collect();
        let v: Vec<Vec<f64>> = x.iter().map(|r| lin(r, "attention.self.value")).collect();
        let mut ctx = vec![vec![0.0f64; h]; n];
        for hd in 0..heads {
            let cols = hd * d..(hd + 1) * d;
            for i in 0..n {
                let s: Vec<f64> = (0..n)
                    .map(|j| {
                        cols.clone().map(|c| q[i][c] * k[j][c]).sum::<f64>() / (d as f64).sqrt()
                    })
                    .collect();
                let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = s.iter().map(|v| libm::exp(v - max)).collect();
                let z: f64 = e.iter().sum();
                for c in cols.clone() {
                    ctx[i][c] = (0..n).map(|j| e[j] / z * v[j][c]).sum();
                }
            }
        }
        for i in 0..n {
            let a = lin(&ctx[i], "attention.output.dense");
            let mut r: Vec<f64> = x[i].iter().zip(&a).map(|(x, a)| x + a).collect();
            layer_norm(
                &mut r,
                w[p("attention.output.LayerNorm.weight").as_str()],
                w[p("attention.output.LayerNorm.bias").as_str()],
                spec.eps,
            );
            let f: Vec<f64> = lin(&r, "intermediate.dense")
                .into_iter()
                .map(|t| 0.5 * t * (1.0 + libm::erf(t / std::f64::consts::SQRT_2)))
                .collect();
            let o = lin(&f, "output.dense");
            let mut r2: Vec<f64> = r.iter().zip(&o).map(|(x, a)| x + a).collect();
            layer_norm(
                &mut r2,
                w[p("output.LayerNorm.weight").as_str()],
                w[p("output.LayerNorm.bias").as_str()],
                spec.eps,
            );
            x[i] = r2;
        }
    }
    let mut e = if spec.cls {
        x[0].clone()
    } else {
        (0..h)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
            .collect()
    };
    let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
    e.iter_mut().for_each(|v| *v /= norm);
    e
}

/// Cosine of an f32 vector with an f64 one.
pub fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let ab: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum();
    let aa: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
    let bb: f64 = b.iter().map(|y| y * y).sum();
    ab / (aa.sqrt() * bb.sqrt())
}

/// A `vocab.txt` of `spec.vocab` tokens: BERT's five special tokens at BERT's ids' order
/// (`[PAD]` 0, `[UNK]` 1, `[CLS]` 2, `[SEP]` 3, `[MASK]` 4), some English words and pieces,
/// then filler tokens.
pub fn vocab_txt(spec: &Spec) -> String {
    let words = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "weather", "is", "lovely", "today",
        ".", "it", "'", "s", "so", "sunny", "outside", "!", "he", "drove", "to", "stadium", "##s",
        "##ing", "a", "##b", "c", "##d", "e", "?", ",", "cafe", "日", "本",
    ];
    assert!(spec.vocab >= words.len());
    let mut out = String::new();
    for i in 0..spec.vocab {
        match words.get(i) {
            Some(w) => out.push_str(w),
            None => write!(out, "filler{i}").unwrap(),
        }
        out.push('\n');
    }
    out
}

/// A minimal BERT `tokenizer.json` around the tokens of [`vocab_txt`].
pub fn tokenizer_json(spec: &Spec) -> String {
    let vocab: Vec<String> = vocab_txt(spec)
        .lines()
        .enumerate()
        .map(|(i, t)| format!("{t:?}: {i}"))
        .collect();
    let added: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .enumerate()
        .map(|(i, t)| format!(r#"{{"id": {i}, "content": "{t}", "special": true}}"#))
        .collect();
    format!(
        r###"{{"version": "1.0", "truncation": {{"max_length": 128}}, "added_tokens": [{}],
 "normalizer": {{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}},
 "model": {{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {{{}}}}}}}"###,
        added.join(", "),
        vocab.join(", ")
    )
}
