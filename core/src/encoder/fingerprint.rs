//! The model id: a 64-bit fingerprint of what decides an encoder's vectors, so a saved index
//! can say which model made them and refuse to be searched with another.
//!
//! Hashed: the config (every hyper-parameter), the pooling, the truncation length, the
//! tokenizer (every token in id order, the normalizer's options, the special tokens) and
//! the weights. Hashing all 90 MB of weights would cost ~10 ms at load natively and far
//! more in an interpreter, and even a strided sample of single values touches a cache line
//! per value (4 ms measured for every 61st value of all-MiniLM-L6-v2). So each tensor
//! contributes its length, its first 256 values, and one run of 16 values (one cache line)
//! in every 4,096: about 0.4% of the values, 0.1 ms. Two checkpoints that differ (another
//! model, another fine-tune, the same one rounded to f16) differ in practically every
//! weight, so the sample tells them apart; a checkpoint edited in a few unsampled weights
//! would not be noticed.
//!
//! The weights' part is taken when the model is loaded, from the f32 values: an int8 model
//! quantized from a checkpoint has the checkpoint's id, so an index built with the f32
//! model can be searched with the int8 one (their vectors agree to cosine >= 0.998).
//!
//! The id depends only on the values, not on their file (f32, f16 or bf16 safetensors of
//! the same values give the same id) or on the kernels, so every backend computes the same.

use alloc::string::String;
use alloc::vec::Vec;

use super::config::Pooling;
use super::model::BertModel;
use super::tokenizer::WordPieceTokenizer;
use super::weights::Weights;
use crate::Result;

/// Values hashed at the start of each tensor.
const HEAD: usize = 256;
/// Then a run of this many values...
const RUN: usize = 16;
/// ...at the start of every block of this many.
const BLOCK: usize = 4096;

/// FNV-1a over 64-bit words, finished with splitmix64's mixer: simple, portable (the wasm
/// module computes the same), and plenty for telling models apart (this is an identity
/// check, not a defence against forgery).
struct Hasher(u64);

impl Hasher {
    fn new() -> Hasher {
        Hasher(0xcbf2_9ce4_8422_2325)
    }

    fn u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        for chunk in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.u64(u64::from_le_bytes(w));
        }
    }

    fn tensor(&mut self, t: &[f32]) {
        self.u64(t.len() as u64);
        let head = t.len().min(HEAD);
        for x in &t[..head] {
            self.u64(u64::from(x.to_bits()));
        }
        for block in t[head..].chunks(BLOCK) {
            for x in &block[..block.len().min(RUN)] {
                self.u64(u64::from(x.to_bits()));
            }
        }
    }

    fn finish(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The id of the encoder made of `tokenizer` and `model` (see the module docs).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub(crate) fn model_id(tokenizer: &WordPieceTokenizer, model: &BertModel) -> Result<u64> {
    let mut h = Hasher::new();
    let c = model.config();
    for x in [
        c.vocab_size,
        c.hidden_size,
        c.num_hidden_layers,
        c.num_attention_heads,
        c.intermediate_size,
        c.max_position_embeddings,
        c.type_vocab_size,
        model.max_seq_length(),
    ] {
        h.u64(x as u64);
    }
    h.u64(u64::from(c.layer_norm_eps.to_bits()));
    h.u64(match model.pooling() {
        Pooling::Mean => 1,
        Pooling::Cls => 2,
    });

    let n = tokenizer.vocab_size();
    h.u64(n as u64);
    for id in 0..n as u32 {
        h.bytes(tokenizer.id_to_token(id).unwrap_or("").as_bytes());
    }
    let o = tokenizer.options();
    let norm = &o.normalizer;
    h.u64(
        u64::from(norm.clean_text)
            | u64::from(norm.handle_chinese_chars) << 1
            | u64::from(norm.strips_accents()) << 2
            | u64::from(norm.lowercase) << 3,
    );
    h.u64(o.max_input_chars_per_word as u64);
    let mut strings: Vec<&String> = Vec::from([
        &o.unk_token,
        &o.continuing_subword_prefix,
        &o.cls_token,
        &o.sep_token,
    ]);
    strings.extend(&o.special_tokens);
    for s in strings {
        h.bytes(s.as_bytes());
    }

    h.u64(model.weights_id());
    Ok(h.finish())
}

/// The weights' part of the id, taken once at load from the f32 values (before any
/// quantization, which drops them).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub(crate) fn weights_id(w: &Weights) -> Result<u64> {
    let mut h = Hasher::new();
    let e = w.embeddings()?;
    for t in [e.word, e.position, e.token_type0, e.ln_g, e.ln_b] {
        h.tensor(t);
    }
    for l in 0..w.num_layers() {
        let v = w.layer(l)?;
        for t in [
            v.query_w,
            v.query_b,
            v.key_w,
            v.key_b,
            v.value_w,
            v.value_b,
            v.attn_out_w,
            v.attn_out_b,
            v.attn_ln_g,
            v.attn_ln_b,
            v.inter_w,
            v.inter_b,
            v.out_w,
            v.out_b,
            v.out_ln_g,
            v.out_ln_b,
        ] {
            h.tensor(t);
        }
    }
    Ok(h.finish())
}
