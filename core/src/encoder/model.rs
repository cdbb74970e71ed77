//! The BERT sentence encoder's forward pass: token ids in, one unit-length vector per
//! sequence out.
//!
//! ```text
//! x = LayerNorm(word[id] + position[p] + token_type[0])
//! repeat num_hidden_layers times:
//!     q, k, v = x Wqᵀ + bq, x Wkᵀ + bk, x Wvᵀ + bv
//!     per sequence, per head h:  ctx_h = softmax(q_h k_hᵀ / sqrt(d)) v_h
//!     x = LayerNorm(x + ctx Woᵀ + bo)
//!     x = LayerNorm(x + GELU(x Wiᵀ + bi) W2ᵀ + b2)
//! e = mean of the sequence's rows of x (or its first row); e / |e|
//! ```
//!
//! # Batches without padding
//!
//! A batch's sequences are concatenated row after row: every linear layer is one product
//! over all the batch's tokens (`m` = total tokens), and attention runs per sequence per
//! head over that sequence's rows only. No pad token is ever computed and no mask is
//! needed, so a batch of lengths 5 and 128 costs 133 tokens, not 256; each sequence's
//! vector is the one it gets alone (up to the order of float sums inside the kernels).
//!
//! # Kernels
//!
//! All the arithmetic that grows with the model (the products, softmax, LayerNorm, GELU)
//! goes through one [`Kernels`](crate::kernels::Kernels) table's dense family, so the
//! forward pass runs at the speed of whichever table it is given and every table can be
//! tested against the others. What
//! is left here is `O(tokens x hidden)` bookkeeping: embedding sums, the per-head
//! transpose of `V`, pooling.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::config::{BertConfig, Pooling};
use super::weights::{ModelBytes, WeightPrecision, Weights};
use crate::kernels::{i8_padded_len, EncoderKernels, GemmNt, GemmNtI8, GemmScratch, QuantizedRows};
use crate::{Error, Result};

/// A BERT sentence encoder ready to run: its config, pooling and weights.
///
/// It owns (a shared reference to) the caller's model bytes, so it has no lifetime and can
/// be stored anywhere, sent across threads and shared: [`embed_ids`](Self::embed_ids) takes
/// `&self`, and all mutable state lives in the caller's [`Workspace`].
#[derive(Debug)]
pub struct BertModel {
    config: BertConfig,
    pooling: Pooling,
    max_seq_length: usize,
    weights: Weights,
    /// The checkpoint's weight fingerprint, taken from the f32 values at load (before any
    /// quantization): see [`fingerprint`](super::fingerprint).
    weights_id: u64,
}

/// Scratch memory for [`BertModel::embed_ids`], reused across calls: a call allocates only
/// when its batch has more tokens (or a longer sequence, or more sequences) than any before
/// it on this workspace. One workspace per thread.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The residual stream, `tokens x hidden`.
    x: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Attention output, `tokens x hidden`.
    ctx: Vec<f32>,
    /// Feed-forward activations, `tokens x intermediate`.
    inter: Vec<f32>,
    /// One head's attention probabilities, `len x len` of the longest sequence.
    scores: Vec<f32>,
    /// One head's `V` transposed, `head_dim x len`.
    vt: Vec<f32>,
    /// The pooled vectors, `batch x hidden`, copied to the caller's output at the end.
    pooled: Vec<f32>,
    /// Int8 models: one product's quantized input rows (`tokens x padded width`), with a
    /// scale and a zero point per row.
    xq: Vec<i8>,
    xq_scale: Vec<f32>,
    xq_zero: Vec<i32>,
    /// The products' packing buffer (`Kernels::gemm_nt_f32_in`).
    gemm: GemmScratch,
}

impl Workspace {
    /// An empty workspace; the first call sizes it.
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Bytes held by the scratch buffers.
    pub fn bytes(&self) -> usize {
        4 * [
            &self.x,
            &self.q,
            &self.k,
            &self.v,
            &self.ctx,
            &self.inter,
            &self.scores,
            &self.vt,
            &self.pooled,
        ]
        .iter()
        .map(|b| b.capacity())
        .sum::<usize>()
            + self.xq.capacity()
            + 4 * (self.xq_scale.capacity() + self.xq_zero.capacity())
            + self.gemm.bytes()
    }
}

/// Grows `buf` to exactly `len` elements (reusing its memory when it is already big
/// enough); an allocation failure is an error, not an abort.
fn ensure<T: Copy + Default>(buf: &mut Vec<T>, len: usize, what: &str) -> Result<()> {
    if buf.len() < len {
        buf.try_reserve_exact(len - buf.len()).map_err(|_| {
            Error::OutOfMemory(format!("encoder workspace: {len} values for {what}"))
        })?;
        buf.resize(len, T::default());
    }
    Ok(())
}

/// Quantizes `x` (rows of `k`) into the workspace's int8 buffers (rows of
/// `i8_padded_len(k)`, sized by `embed_ids`) and returns them.
fn quantize<'w>(
    kernels: &EncoderKernels,
    x: &[f32],
    k: usize,
    xq: &'w mut [i8],
    scale: &'w mut [f32],
    zero: &'w mut [i32],
) -> Result<QuantizedRows<'w>> {
    let rows = x.len() / k;
    let ld = i8_padded_len(k);
    let (xq, scale, zero) = (&mut xq[..rows * ld], &mut scale[..rows], &mut zero[..rows]);
    kernels.quantize_rows_i8(x, k, xq, ld, scale, zero)?;
    Ok(QuantizedRows {
        values: xq,
        scale,
        offset: zero,
    })
}

impl BertModel {
    /// Builds a model from a safetensors buffer and its parsed configs.
    ///
    /// `max_seq_length` is the sentence-transformers truncation length (see
    /// [`max_seq_length_from_json`](super::config::max_seq_length_from_json)); `None` means
    /// `max_position_embeddings`. It must not exceed `max_position_embeddings`.
    pub fn new(
        bytes: ModelBytes,
        config: BertConfig,
        pooling: Pooling,
        max_seq_length: Option<usize>,
    ) -> Result<BertModel> {
        let max_seq_length = max_seq_length.unwrap_or(config.max_position_embeddings);
        if max_seq_length == 0 || max_seq_length > config.max_position_embeddings {
            return Err(Error::CorruptFile(format!(
                "sentence_bert_config.json: max_seq_length {max_seq_length} is outside 1..={} (max_position_embeddings)",
                config.max_position_embeddings
            )));
        }
        let weights = Weights::load(bytes, &config)?;
        let weights_id = super::fingerprint::weights_id(&weights)?;
        Ok(BertModel {
            config,
            pooling,
            max_seq_length,
            weights,
            weights_id,
        })
    }

    /// Builds a model from the files of a sentence-transformers model directory:
    /// `model.safetensors` (shared, not copied), `config.json`, and optionally
    /// `1_Pooling/config.json` (missing: mean pooling) and `sentence_bert_config.json`.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_files(
        safetensors: ModelBytes,
        config_json: &[u8],
        pooling_json: Option<&[u8]>,
        sentence_bert_config_json: Option<&[u8]>,
    ) -> Result<BertModel> {
        let config = BertConfig::from_json(config_json)?;
        let pooling = match pooling_json {
            Some(p) => Pooling::from_json(p)?,
            None => Pooling::Mean,
        };
        let max_seq = match sentence_bert_config_json {
            Some(s) => Some(super::config::max_seq_length_from_json(s)?),
            None => None,
        };
        BertModel::new(safetensors, config, pooling, max_seq)
    }

    /// The transformer's hyper-parameters.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The pooling of the sentence vector.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Length of the output vectors (`hidden_size`).
    pub fn dims(&self) -> usize {
        self.config.hidden_size
    }

    /// The sequence length the tokenizer should truncate to (special tokens included).
    /// Longer sequences, up to `max_position_embeddings`, are still accepted.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// A fingerprint of the checkpoint's weights as loaded (f32 values, before any
    /// quantization); part of [`Encoder::model_id`](super::Encoder::model_id).
    pub fn weights_id(&self) -> u64 {
        self.weights_id
    }

    /// The weights (borrowed and owned byte counts).
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The precision of the linear layers (f32 unless [`quantize_int8`](Self::quantize_int8)
    /// was called).
    pub fn precision(&self) -> WeightPrecision {
        self.weights.precision()
    }

    /// Switches the model to [`WeightPrecision::Int8`]: the linear layers' weights are
    /// quantized per output channel now (about a quarter of their f32 bytes, owned; see
    /// [`Weights::owned_bytes`]), and from then on every product of a linear layer runs in
    /// integers on the kernel table's `gemm_nt_i8`, with each token's activations quantized
    /// on the fly. Embeddings stay close to the f32 model's, not equal (the accuracy is
    /// measured in `core/tests/encoder_reference.rs`). A no-op if already int8; on error
    /// the model is unchanged.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn quantize_int8(&mut self) -> Result<()> {
        // The fingerprint (`weights_id`) stays the checkpoint's: an index built with the f32
        // model can be searched with the int8 one (cosine >= 0.998 between their vectors).
        self.weights.quantize_int8(&self.config)
    }

    /// The model at the given precision: [`quantize_int8`](Self::quantize_int8) for
    /// [`WeightPrecision::Int8`]. An int8 model cannot go back to f32 (build it again).
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn with_precision(mut self, precision: WeightPrecision) -> Result<BertModel> {
        match (precision, self.precision()) {
            (WeightPrecision::Int8, _) => self.quantize_int8()?,
            (WeightPrecision::F32, WeightPrecision::Int8) => {
                return Err(Error::InvalidArgument(
                    "an int8 model cannot be turned back into f32: load the checkpoint again"
                        .to_string(),
                ))
            }
            (WeightPrecision::F32, WeightPrecision::F32) => {}
        }
        Ok(self)
    }

    /// [`embed_ids`](Self::embed_ids) on the active kernel table.
    pub fn embed_ids_active(
        &self,
        batch: &[&[u32]],
        out: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<()> {
        self.embed_ids(EncoderKernels::active(), batch, out, ws)
    }

    /// Embeds a batch of token id sequences (each already with its `[CLS]` ... `[SEP]`):
    /// row `s` of `out` (`batch.len() x dims()`) becomes sequence `s`'s unit-length vector.
    ///
    /// Sequences may differ in length; the batch costs its total number of tokens (see the
    /// module docs). Errors, with `out` left untouched: an empty sequence, a sequence
    /// longer than `max_position_embeddings`, an id `>= vocab_size`
    /// ([`Error::InvalidArgument`], naming the sequence and position); `out` of the wrong
    /// length ([`Error::DimensionMismatch`]); a workspace that cannot grow
    /// ([`Error::OutOfMemory`]). An empty batch is a no-op.
    ///
    /// `kernels` is a [`Kernels`](crate::kernels::Kernels) table (`&Kernels`) or just its
    /// [`EncoderKernels`].
    pub fn embed_ids(
        &self,
        kernels: impl Into<EncoderKernels>,
        batch: &[&[u32]],
        out: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<()> {
        self.embed_ids_on(&kernels.into(), batch, out, ws)
    }

    /// [`embed_ids`](Self::embed_ids), one instance for every kind of `kernels`.
    fn embed_ids_on(
        &self,
        kernels: &EncoderKernels,
        batch: &[&[u32]],
        out: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<()> {
        let cfg = &self.config;
        let h = cfg.hidden_size;
        let expected = batch
            .len()
            .checked_mul(h)
            .ok_or_else(|| Error::InvalidArgument("batch too large".to_string()))?;
        if out.len() != expected {
            return Err(Error::DimensionMismatch {
                expected,
                actual: out.len(),
            });
        }
        let mut total = 0usize;
        let mut longest = 0usize;
        for (s, ids) in batch.iter().enumerate() {
            if ids.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "sequence {s} is empty (it needs at least [CLS] and [SEP])"
                )));
            }
            if ids.len() > cfg.max_position_embeddings {
                return Err(Error::InvalidArgument(format!(
                    "sequence {s} has {} tokens, more than the model's {} positions (truncate to max_seq_length = {})",
                    ids.len(),
                    cfg.max_position_embeddings,
                    self.max_seq_length
                )));
            }
            if let Some((p, &id)) = ids
                .iter()
                .enumerate()
                .find(|(_, &id)| id as usize >= cfg.vocab_size)
            {
                return Err(Error::InvalidArgument(format!(
                    "sequence {s}, position {p}: token id {id} is not below the vocabulary size {}",
                    cfg.vocab_size
                )));
            }
            // Checked: on 32-bit targets many long sequences could overflow the sum.
            total = total
                .checked_add(ids.len())
                .ok_or_else(|| Error::InvalidArgument("batch too large".to_string()))?;
            longest = longest.max(ids.len());
        }
        if batch.is_empty() {
            return Ok(());
        }
        let th = total
            .checked_mul(h)
            .ok_or_else(|| Error::InvalidArgument("batch too large".to_string()))?;
        let ti = total
            .checked_mul(cfg.intermediate_size)
            .ok_or_else(|| Error::InvalidArgument("batch too large".to_string()))?;
        ensure(&mut ws.x, th, "the residual stream")?;
        ensure(&mut ws.q, th, "queries")?;
        ensure(&mut ws.k, th, "keys")?;
        ensure(&mut ws.v, th, "values")?;
        ensure(&mut ws.ctx, th, "attention outputs")?;
        ensure(&mut ws.inter, ti, "feed-forward activations")?;
        let square = longest
            .checked_mul(longest)
            .ok_or_else(|| Error::InvalidArgument("sequence too long".to_string()))?;
        ensure(&mut ws.scores, square, "attention scores")?;
        // head_dim <= hidden and longest <= max_position_embeddings, whose product the
        // position table's bytes in memory already bound.
        ensure(&mut ws.vt, cfg.head_dim() * longest, "transposed values")?;
        ensure(&mut ws.pooled, expected, "pooled vectors")?;
        if self.precision() == WeightPrecision::Int8 {
            let widest = i8_padded_len(h).max(i8_padded_len(cfg.intermediate_size));
            let tq = total
                .checked_mul(widest)
                .ok_or_else(|| Error::InvalidArgument("batch too large".to_string()))?;
            ensure(&mut ws.xq, tq, "quantized activations")?;
            ensure(&mut ws.xq_scale, total, "activation scales")?;
            ensure(&mut ws.xq_zero, total, "activation zero points")?;
        }

        self.embeddings(kernels, batch, &mut ws.x[..th])?;
        for l in 0..self.weights.num_layers() {
            self.layer(kernels, l, batch, total, ws)?;
        }
        self.pool(kernels, batch, ws)?;
        out.copy_from_slice(&ws.pooled[..expected]);
        Ok(())
    }

    /// `x = LayerNorm(word[id] + position[p] + token_type[0])` for every token.
    fn embeddings(&self, kernels: &EncoderKernels, batch: &[&[u32]], x: &mut [f32]) -> Result<()> {
        let h = self.config.hidden_size;
        let e = self.weights.embeddings()?;
        let mut rows = x.chunks_exact_mut(h);
        let out_of_range = || Error::Internal("embedding index out of range".to_string());
        for ids in batch {
            for (p, &id) in ids.iter().enumerate() {
                // Ids and positions were checked against the table sizes in `embed_ids`.
                let (Some(row), Some(pos)) = (rows.next(), e.position.get(p * h..(p + 1) * h))
                else {
                    return Err(out_of_range());
                };
                let id = id as usize;
                match e.word_i8 {
                    // The int8 table: each value times its row's scale.
                    Some(table) => {
                        let (word, scale) = table.row(id).ok_or_else(out_of_range)?;
                        for (((o, &w), q), t) in
                            row.iter_mut().zip(word).zip(pos).zip(e.token_type0)
                        {
                            *o = f32::from(w) * scale + q + t;
                        }
                    }
                    None => {
                        let word = e.word.get(id * h..(id + 1) * h).ok_or_else(out_of_range)?;
                        for (((o, w), q), t) in row.iter_mut().zip(word).zip(pos).zip(e.token_type0)
                        {
                            *o = w + q + t;
                        }
                    }
                }
            }
        }
        kernels.layer_norm_rows_f32(x, e.ln_g, e.ln_b, self.config.layer_norm_eps)
    }

    /// One transformer layer over all `total` tokens of the batch, in place on `ws.x`.
    fn layer(
        &self,
        kernels: &EncoderKernels,
        l: usize,
        batch: &[&[u32]],
        total: usize,
        ws: &mut Workspace,
    ) -> Result<()> {
        if let Some(q) = self.weights.layer_int8(l) {
            return self.layer_int8(kernels, l, q, batch, total, ws);
        }
        let cfg = &self.config;
        let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
        let w = self.weights.layer(l)?;
        let th = total * h;

        // Q, K, V: three products over all tokens (weights [h, h], read in place).
        for (weight, bias, dst) in [
            (w.query_w, w.query_b, &mut ws.q),
            (w.key_w, w.key_b, &mut ws.k),
            (w.value_w, w.value_b, &mut ws.v),
        ] {
            let x = &ws.x[..th];
            kernels.gemm_nt_f32_in(
                &GemmNt::new(total, h, h, x, weight).bias(bias),
                dst,
                h,
                &mut ws.gemm,
            )?;
        }

        self.attention(kernels, batch, ws)?;
        let x = &mut ws.x[..th];

        // x = LayerNorm(x + ctx Woᵀ + bo): the product accumulates into the residual.
        kernels.gemm_nt_f32_in(
            &GemmNt {
                accumulate: true,
                ..GemmNt::new(total, h, h, &ws.ctx[..th], w.attn_out_w).bias(w.attn_out_b)
            },
            x,
            h,
            &mut ws.gemm,
        )?;
        kernels.layer_norm_rows_f32(x, w.attn_ln_g, w.attn_ln_b, cfg.layer_norm_eps)?;

        // Feed-forward: GELU fused into the first product, the second accumulates.
        let act = &mut ws.inter[..total * inter];
        kernels.gemm_nt_f32_in(
            &GemmNt {
                gelu: true,
                ..GemmNt::new(total, inter, h, x, w.inter_w).bias(w.inter_b)
            },
            act,
            inter,
            &mut ws.gemm,
        )?;
        kernels.gemm_nt_f32_in(
            &GemmNt {
                accumulate: true,
                ..GemmNt::new(total, h, inter, act, w.out_w).bias(w.out_b)
            },
            x,
            h,
            &mut ws.gemm,
        )?;
        kernels.layer_norm_rows_f32(x, w.out_ln_g, w.out_ln_b, cfg.layer_norm_eps)
    }

    /// Attention over `ws.q`, `ws.k`, `ws.v` into `ws.ctx`, per sequence and head: only that
    /// sequence's rows, so no mask.
    fn attention(
        &self,
        kernels: &EncoderKernels,
        batch: &[&[u32]],
        ws: &mut Workspace,
    ) -> Result<()> {
        let cfg = &self.config;
        let h = cfg.hidden_size;
        let heads = cfg.num_attention_heads;
        let d = cfg.head_dim();
        let alpha = 1.0 / libm::sqrtf(d as f32);
        let mut start = 0;
        for ids in batch {
            let n = ids.len();
            let rows = start * h;
            for head in 0..heads {
                let col = rows + head * d;
                let scores = &mut ws.scores[..n * n];
                // scores = alpha Q_h K_hᵀ: row stride h picks the head's columns in place.
                kernels.gemm_nt_f32_in(
                    &GemmNt {
                        alpha,
                        lda: h,
                        ldb: h,
                        ..GemmNt::new(n, n, d, &ws.q[col..], &ws.k[col..])
                    },
                    scores,
                    n,
                    &mut ws.gemm,
                )?;
                kernels.softmax_rows_f32(scores, n)?;
                // V_h transposed (d x n), so P V_h is again an A Bᵀ product with contiguous
                // rows; this copy is d x n, small next to the product.
                let vt = &mut ws.vt[..d * n];
                for t in 0..n {
                    let src = &ws.v[col + t * h..col + t * h + d];
                    for (j, &val) in src.iter().enumerate() {
                        vt[j * n + t] = val;
                    }
                }
                kernels.gemm_nt_f32_in(
                    &GemmNt::new(n, d, n, scores, vt),
                    &mut ws.ctx[col..],
                    h,
                    &mut ws.gemm,
                )?;
            }
            start += n;
        }
        Ok(())
    }

    /// [`layer`](Self::layer) with int8 linear layers: each product's input rows are
    /// quantized per token (`quantize_rows_i8`) and multiplied by the quantized weights
    /// (`gemm_nt_i8`, the same bias/GELU/residual epilogues). Attention, softmax and
    /// LayerNorm stay f32.
    fn layer_int8(
        &self,
        kernels: &EncoderKernels,
        l: usize,
        q: &super::weights::QuantizedLayer,
        batch: &[&[u32]],
        total: usize,
        ws: &mut Workspace,
    ) -> Result<()> {
        let cfg = &self.config;
        let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
        let (kh, ki) = (i8_padded_len(h), i8_padded_len(inter));
        let w = self.weights.layer(l)?;
        let th = total * h;

        // Q, K, V: one quantization of x, three products.
        {
            let xq = quantize(
                kernels,
                &ws.x[..th],
                h,
                &mut ws.xq,
                &mut ws.xq_scale,
                &mut ws.xq_zero,
            )?;
            for (weight, bias, dst) in [
                (&q.query, w.query_b, &mut ws.q),
                (&q.key, w.key_b, &mut ws.k),
                (&q.value, w.value_b, &mut ws.v),
            ] {
                let op = GemmNtI8 {
                    bias: Some(bias),
                    ..GemmNtI8::new(total, h, kh, xq, weight.rows())
                };
                kernels.gemm_nt_i8_in(&op, dst, h, &mut ws.gemm)?;
            }
        }

        self.attention(kernels, batch, ws)?;

        // x = LayerNorm(x + ctx Woᵀ + bo).
        let cq = quantize(
            kernels,
            &ws.ctx[..th],
            h,
            &mut ws.xq,
            &mut ws.xq_scale,
            &mut ws.xq_zero,
        )?;
        let x = &mut ws.x[..th];
        kernels.gemm_nt_i8_in(
            &GemmNtI8 {
                bias: Some(w.attn_out_b),
                accumulate: true,
                ..GemmNtI8::new(total, h, kh, cq, q.attn_out.rows())
            },
            x,
            h,
            &mut ws.gemm,
        )?;
        kernels.layer_norm_rows_f32(x, w.attn_ln_g, w.attn_ln_b, cfg.layer_norm_eps)?;

        // Feed-forward: GELU fused into the first product, the second accumulates.
        let xq = quantize(kernels, x, h, &mut ws.xq, &mut ws.xq_scale, &mut ws.xq_zero)?;
        let act = &mut ws.inter[..total * inter];
        kernels.gemm_nt_i8_in(
            &GemmNtI8 {
                bias: Some(w.inter_b),
                gelu: true,
                ..GemmNtI8::new(total, inter, kh, xq, q.inter.rows())
            },
            act,
            inter,
            &mut ws.gemm,
        )?;
        let aq = quantize(
            kernels,
            act,
            inter,
            &mut ws.xq,
            &mut ws.xq_scale,
            &mut ws.xq_zero,
        )?;
        kernels.gemm_nt_i8_in(
            &GemmNtI8 {
                bias: Some(w.out_b),
                accumulate: true,
                ..GemmNtI8::new(total, h, ki, aq, q.out.rows())
            },
            x,
            h,
            &mut ws.gemm,
        )?;
        kernels.layer_norm_rows_f32(x, w.out_ln_g, w.out_ln_b, cfg.layer_norm_eps)
    }

    /// Pools each sequence's rows of `ws.x` into `ws.pooled` and normalizes them.
    fn pool(&self, kernels: &EncoderKernels, batch: &[&[u32]], ws: &mut Workspace) -> Result<()> {
        let h = self.config.hidden_size;
        let mut start = 0;
        for (s, ids) in batch.iter().enumerate() {
            let n = ids.len();
            let rows = &ws.x[start * h..(start + n) * h];
            let dst = &mut ws.pooled[s * h..(s + 1) * h];
            match self.pooling {
                Pooling::Cls => dst.copy_from_slice(&rows[..h]),
                Pooling::Mean => {
                    dst.fill(0.0);
                    for row in rows.chunks_exact(h) {
                        for (o, v) in dst.iter_mut().zip(row) {
                            *o += v;
                        }
                    }
                    // The mean's scale cancels in the normalization below, but the vector
                    // is the mean for a zero-norm (degenerate) output, which stays as is.
                    let inv = 1.0 / n as f32;
                    dst.iter_mut().for_each(|o| *o *= inv);
                }
            }
            // Also a vector whose squared length underflows f32 (tiny activations from
            // hostile weights; fuzz finding 7) comes out unit length.
            crate::kernels::normalize_to_unit(dst, |x| kernels.l2_normalize_f32(x));
            start += n;
        }
        Ok(())
    }
}
