//! A BERT checkpoint's weights, found by name in a safetensors buffer, checked against the
//! config, and borrowed from the caller's bytes where they can be.
//!
//! A 90 MB f32 checkpoint must not be copied: the model keeps the caller's buffer alive
//! ([`ModelBytes`], shared ownership, no lifetime parameter, so the model can cross an FFI
//! boundary) and records for each tensor where its `f32`s lie. When the tensor is f32, the
//! target is little-endian and its bytes are 4-byte aligned, the forward pass reads it in
//! place. Otherwise (f16, bf16, a misaligned buffer, a big-endian target) it is converted
//! once, at load, into one owned f32 arena.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::config::BertConfig;
use super::safetensors::{Dtype, SafeTensors, TensorInfo};
use crate::kernels::{i8_padded_len, quantize_weights_i8, QuantizedRows};
use crate::{Error, Result};

/// How the linear layers' weights are held and multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WeightPrecision {
    /// The checkpoint's values as f32 (borrowed in place where possible): the reference.
    #[default]
    F32,
    /// The six linear layers of every transformer layer quantized to int8 per output
    /// channel (symmetric, one f32 scale per row), made from the f32 weights at load time:
    /// a quarter of their f32 size. Activations are quantized per token at run time
    /// (`kernels::quantize_rows_i8`) and multiplied in integers (`Kernels::gemm_nt_i8`).
    /// The word embedding table (the largest tensor: 47 MB of all-MiniLM-L6-v2's 91 MB) is
    /// quantized the same way, one scale per token, and dequantized row by row as tokens
    /// are looked up. The other small tensors (position and token type embeddings, biases,
    /// LayerNorm) are copied out as f32, and attention stays f32. The model then owns
    /// everything it reads and lets go of the checkpoint's bytes: about a quarter of the
    /// f32 model's memory ([`Weights::memory_bytes`]).
    Int8,
}

/// One linear layer's weight `[out, in]` quantized per output channel: `out` rows of
/// `i8_padded_len(in)` values (zero padded), a scale and the sum of the values per row.
pub(crate) struct QuantizedLinear {
    values: Vec<i8>,
    scale: Vec<f32>,
    sum: Vec<i32>,
}

impl QuantizedLinear {
    fn new(w: &[f32], rows: usize, cols: usize) -> Result<QuantizedLinear> {
        let ld = i8_padded_len(cols);
        let oom = || Error::OutOfMemory(format!("{rows} x {ld} int8 weights"));
        let len = rows.checked_mul(ld).ok_or_else(oom)?;
        let mut values = Vec::new();
        values.try_reserve_exact(len).map_err(|_| oom())?;
        values.resize(len, 0i8);
        let (mut scale, mut sum) = (Vec::new(), Vec::new());
        scale.try_reserve_exact(rows).map_err(|_| oom())?;
        sum.try_reserve_exact(rows).map_err(|_| oom())?;
        scale.resize(rows, 0.0);
        sum.resize(rows, 0);
        quantize_weights_i8(w, cols, &mut values, ld, &mut scale, &mut sum)?;
        Ok(QuantizedLinear { values, scale, sum })
    }

    fn bytes(&self) -> usize {
        self.values.capacity() + 4 * (self.scale.capacity() + self.sum.capacity())
    }

    pub(crate) fn rows(&self) -> QuantizedRows<'_> {
        QuantizedRows {
            values: &self.values,
            scale: &self.scale,
            offset: &self.sum,
        }
    }
}

/// One transformer layer's quantized linear weights.
pub(crate) struct QuantizedLayer {
    pub query: QuantizedLinear,
    pub key: QuantizedLinear,
    pub value: QuantizedLinear,
    pub attn_out: QuantizedLinear,
    pub inter: QuantizedLinear,
    pub out: QuantizedLinear,
}

impl QuantizedLayer {
    fn bytes(&self) -> usize {
        [
            &self.query,
            &self.key,
            &self.value,
            &self.attn_out,
            &self.inter,
            &self.out,
        ]
        .iter()
        .map(|q| q.bytes())
        .sum()
    }
}

/// The word embedding table quantized per row (token), as the linear weights are per
/// output channel (`quantize_weights_i8`), but stored unpadded: `rows x cols` values and
/// one f32 scale per row; a row dequantizes to `values[j] * scale`.
pub(crate) struct QuantizedTable {
    values: Vec<i8>,
    scale: Vec<f32>,
    cols: usize,
}

/// Rows quantized per block through a padded scratch (what `quantize_weights_i8` writes),
/// then copied unpadded into the table.
const TABLE_BLOCK: usize = 64;

impl QuantizedTable {
    fn new(w: &[f32], cols: usize) -> Result<QuantizedTable> {
        // `chunks` below panics on 0, and a ragged last row would be dropped silently.
        if cols == 0 || !w.len().is_multiple_of(cols) {
            return Err(Error::Internal(format!(
                "a word table of {} values is not made of rows of {cols}",
                w.len()
            )));
        }
        let rows = w.len() / cols;
        let ld = i8_padded_len(cols);
        let oom = || Error::OutOfMemory(format!("{rows} x {cols} int8 embeddings"));
        let len = rows.checked_mul(cols).ok_or_else(oom)?;
        let block = TABLE_BLOCK.checked_mul(ld).ok_or_else(oom)?;
        let mut values = Vec::new();
        values.try_reserve_exact(len).map_err(|_| oom())?;
        let mut scale = Vec::new();
        scale.try_reserve_exact(rows).map_err(|_| oom())?;
        scale.resize(rows, 0.0);
        let mut scratch = Vec::new();
        scratch.try_reserve_exact(block).map_err(|_| oom())?;
        scratch.resize(block, 0i8);
        let mut sum = [0i32; TABLE_BLOCK];
        for (src, s) in w
            .chunks(TABLE_BLOCK * cols)
            .zip(scale.chunks_mut(TABLE_BLOCK))
        {
            let n = s.len();
            let padded = &mut scratch[..n * ld];
            quantize_weights_i8(src, cols, padded, ld, s, &mut sum[..n])?;
            for row in padded.chunks_exact(ld) {
                values.extend_from_slice(&row[..cols]);
            }
        }
        Ok(QuantizedTable {
            values,
            scale,
            cols,
        })
    }

    fn bytes(&self) -> usize {
        self.values.capacity() + 4 * self.scale.capacity()
    }

    /// Row `r` as its int8 values and scale, `None` past the end.
    pub(crate) fn row(&self, r: usize) -> Option<(&[i8], f32)> {
        let start = r.checked_mul(self.cols)?;
        let values = self.values.get(start..start.checked_add(self.cols)?)?;
        Some((values, *self.scale.get(r)?))
    }
}

/// The caller's model bytes, shared with the model: a `Vec<u8>`, a `Box<[u8]>`, a
/// `&'static [u8]`, a memory map... anything that derefs to bytes and can be shared across
/// threads. The model reads the weights from it in place, so it is never copied.
///
/// `as_ref` must return the same bytes on every call (every ordinary buffer type does); a
/// type that did not would make the forward pass fail with [`Error::Internal`], never read
/// out of bounds.
pub type ModelBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Where one tensor's `f32`s are.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// In the model bytes, at byte offset `start`, 4-byte aligned, little-endian f32.
    Borrowed,
    /// In the owned arena, at element offset `start`.
    Owned,
}

#[derive(Debug, Clone, Copy)]
struct TensorRef {
    source: Source,
    start: usize,
    /// Number of f32 elements.
    len: usize,
}

/// The tensors of one transformer layer.
#[derive(Debug, Clone, Copy)]
struct LayerRefs {
    query_w: TensorRef,
    query_b: TensorRef,
    key_w: TensorRef,
    key_b: TensorRef,
    value_w: TensorRef,
    value_b: TensorRef,
    attn_out_w: TensorRef,
    attn_out_b: TensorRef,
    attn_ln_g: TensorRef,
    attn_ln_b: TensorRef,
    inter_w: TensorRef,
    inter_b: TensorRef,
    out_w: TensorRef,
    out_b: TensorRef,
    out_ln_g: TensorRef,
    out_ln_b: TensorRef,
}

/// One layer's weights as `f32` slices (weights `[out, in]`, row-major).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerView<'a> {
    pub query_w: &'a [f32],
    pub query_b: &'a [f32],
    pub key_w: &'a [f32],
    pub key_b: &'a [f32],
    pub value_w: &'a [f32],
    pub value_b: &'a [f32],
    pub attn_out_w: &'a [f32],
    pub attn_out_b: &'a [f32],
    pub attn_ln_g: &'a [f32],
    pub attn_ln_b: &'a [f32],
    pub inter_w: &'a [f32],
    pub inter_b: &'a [f32],
    pub out_w: &'a [f32],
    pub out_b: &'a [f32],
    pub out_ln_g: &'a [f32],
    pub out_ln_b: &'a [f32],
}

/// The embedding tables and their LayerNorm.
#[derive(Clone, Copy)]
pub(crate) struct EmbeddingView<'a> {
    /// The word table as f32, empty when it is quantized (`word_i8`).
    pub word: &'a [f32],
    /// The word table quantized per row ([`WeightPrecision::Int8`]).
    pub word_i8: Option<&'a QuantizedTable>,
    pub position: &'a [f32],
    /// Row 0 of the token type table (single sentences are all type 0).
    pub token_type0: &'a [f32],
    pub ln_g: &'a [f32],
    pub ln_b: &'a [f32],
}

/// The weights of a BERT encoder: the caller's bytes plus, for tensors that cannot be read
/// in place, one owned f32 arena. When no tensor is read in place (an f16 or bf16
/// checkpoint, a misaligned buffer, [`WeightPrecision::Int8`]) the caller's bytes are let
/// go: the model keeps only what it owns.
pub struct Weights {
    /// The caller's bytes while a tensor is read from them, else an empty buffer.
    bytes: ModelBytes,
    owned: Vec<f32>,
    word: TensorRef,
    position: TensorRef,
    token_type0: TensorRef,
    emb_ln_g: TensorRef,
    emb_ln_b: TensorRef,
    layers: Vec<LayerRefs>,
    borrowed_bytes: usize,
    /// The int8 linear weights of every layer ([`WeightPrecision::Int8`]), else empty.
    int8: Vec<QuantizedLayer>,
    /// The int8 word embedding table ([`WeightPrecision::Int8`]).
    word_i8: Option<QuantizedTable>,
}

/// What the model holds instead of the caller's bytes once it reads none of them.
fn no_bytes() -> ModelBytes {
    Arc::new(&[] as &'static [u8])
}

impl core::fmt::Debug for Weights {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Weights")
            .field("layers", &self.layers.len())
            .field("borrowed_bytes", &self.borrowed_bytes)
            .field("owned_bytes", &self.owned_bytes())
            .field("memory_bytes", &self.memory_bytes())
            .field("precision", &self.precision())
            .finish_non_exhaustive()
    }
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::CorruptFile(format!("model weights: {}", msg.into()))
}

/// Resolves tensor names (with or without the `bert.` prefix, `weight`/`gamma` and
/// `bias`/`beta` for LayerNorm) and checks shapes.
struct Finder<'a> {
    st: &'a SafeTensors,
    prefix: &'static str,
}

impl<'a> Finder<'a> {
    fn new(st: &'a SafeTensors) -> Result<Finder<'a>> {
        const PROBE: &str = "embeddings.word_embeddings.weight";
        for prefix in ["", "bert."] {
            if st.get(&format!("{prefix}{PROBE}")).is_some() {
                return Ok(Finder { st, prefix });
            }
        }
        Err(corrupt(format!(
            "missing tensor \"{PROBE}\" (nor \"bert.{PROBE}\"): not a BERT checkpoint?"
        )))
    }

    /// The tensor `name` (one of `alternatives` for the last component), of shape `shape`.
    fn find(&self, base: &str, alternatives: &[&str], shape: &[usize]) -> Result<&'a TensorInfo> {
        let mut first = None;
        for alt in alternatives {
            let name = format!("{}{base}.{alt}", self.prefix);
            if let Some(t) = self.st.get(&name) {
                if t.shape != shape {
                    return Err(corrupt(format!(
                        "tensor \"{name}\" has shape {:?}, but config.json implies {:?}",
                        t.shape, shape
                    )));
                }
                return Ok(t);
            }
            first.get_or_insert(name);
        }
        Err(corrupt(format!(
            "missing tensor \"{}\"",
            first.unwrap_or_default()
        )))
    }
}

/// A tensor before placement: its info and whether it is read in place.
struct Planned<'a> {
    info: &'a TensorInfo,
    borrowed: bool,
}

/// Records that tensor `t` is needed and whether it can be read in place; refuses dtypes
/// the encoder cannot read.
fn plan_tensor<'a>(planned: &mut Vec<Planned<'a>>, buf: &[u8], t: &'a TensorInfo) -> Result<usize> {
    // Borrowing needs f32 data, a little-endian target and a 4-byte aligned first byte.
    let addr = buf.as_ptr() as usize + t.range.start;
    let borrowed =
        t.dtype == Dtype::F32 && cfg!(target_endian = "little") && addr.is_multiple_of(4);
    match t.dtype {
        Dtype::F32 | Dtype::F16 | Dtype::BF16 => {}
        other => {
            return Err(corrupt(format!(
                "tensor \"{}\" has dtype {}: the encoder reads F32, F16 or BF16 weights{}",
                t.name,
                other.name(),
                if other == Dtype::I8 {
                    " (int8 needs per-channel scales, which safetensors does not carry)"
                } else {
                    ""
                }
            )))
        }
    }
    planned.push(Planned { info: t, borrowed });
    Ok(planned.len() - 1)
}

impl Weights {
    /// Finds and checks every tensor the forward pass needs in `bytes` (a whole safetensors
    /// file), converting what cannot be borrowed.
    ///
    /// Errors ([`Error::CorruptFile`]) name the tensor: a missing one, a shape that does
    /// not match `config` (both shapes given), a dtype other than F32, F16 or BF16. Tensors
    /// the encoder does not use (the pooler, `position_ids`) are ignored.
    pub fn load(bytes: ModelBytes, config: &BertConfig) -> Result<Weights> {
        let buf: &[u8] = (*bytes).as_ref();
        let st = SafeTensors::parse(buf)?;
        let f = Finder::new(&st)?;
        let (h, i) = (config.hidden_size, config.intermediate_size);
        const W: &[&str] = &["weight"];
        const B: &[&str] = &["bias"];
        const G: &[&str] = &["weight", "gamma"];
        const BETA: &[&str] = &["bias", "beta"];

        // Find everything first (errors before any allocation), in a fixed order.
        let mut planned: Vec<Planned<'_>> = Vec::new();
        let mut plan = |t| plan_tensor(&mut planned, buf, t);
        let emb = [
            plan(f.find("embeddings.word_embeddings", W, &[config.vocab_size, h])?)?,
            plan(f.find(
                "embeddings.position_embeddings",
                W,
                &[config.max_position_embeddings, h],
            )?)?,
            plan(f.find(
                "embeddings.token_type_embeddings",
                W,
                &[config.type_vocab_size, h],
            )?)?,
            plan(f.find("embeddings.LayerNorm", G, &[h])?)?,
            plan(f.find("embeddings.LayerNorm", BETA, &[h])?)?,
        ];
        let mut layer_idx = Vec::new();
        layer_idx
            .try_reserve_exact(config.num_hidden_layers)
            .map_err(|_| Error::OutOfMemory("layer table".to_string()))?;
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            let n = |s: &str| format!("{p}{s}");
            layer_idx.push([
                plan(f.find(&n("attention.self.query"), W, &[h, h])?)?,
                plan(f.find(&n("attention.self.query"), B, &[h])?)?,
                plan(f.find(&n("attention.self.key"), W, &[h, h])?)?,
                plan(f.find(&n("attention.self.key"), B, &[h])?)?,
                plan(f.find(&n("attention.self.value"), W, &[h, h])?)?,
                plan(f.find(&n("attention.self.value"), B, &[h])?)?,
                plan(f.find(&n("attention.output.dense"), W, &[h, h])?)?,
                plan(f.find(&n("attention.output.dense"), B, &[h])?)?,
                plan(f.find(&n("attention.output.LayerNorm"), G, &[h])?)?,
                plan(f.find(&n("attention.output.LayerNorm"), BETA, &[h])?)?,
                plan(f.find(&n("intermediate.dense"), W, &[i, h])?)?,
                plan(f.find(&n("intermediate.dense"), B, &[i])?)?,
                plan(f.find(&n("output.dense"), W, &[h, i])?)?,
                plan(f.find(&n("output.dense"), B, &[h])?)?,
                plan(f.find(&n("output.LayerNorm"), G, &[h])?)?,
                plan(f.find(&n("output.LayerNorm"), BETA, &[h])?)?,
            ]);
        }

        // Place: borrowed tensors keep their byte offset; the rest get arena offsets. The
        // arena's size is backed by bytes present in the buffer (each converted element
        // has at least 2 bytes there), so a hostile header cannot inflate it.
        let owned_len: usize = planned
            .iter()
            .filter(|p| !p.borrowed)
            .map(|p| p.info.numel())
            .sum();
        let mut owned: Vec<f32> = Vec::new();
        owned
            .try_reserve_exact(owned_len)
            .map_err(|_| Error::OutOfMemory(format!("{owned_len} converted weights")))?;
        let mut borrowed_bytes = 0;
        let mut refs = Vec::new();
        refs.try_reserve_exact(planned.len())
            .map_err(|_| Error::OutOfMemory("tensor table".to_string()))?;
        for p in &planned {
            let t = p.info;
            let len = t.numel();
            if p.borrowed {
                borrowed_bytes += t.range.len();
                refs.push(TensorRef {
                    source: Source::Borrowed,
                    start: t.range.start,
                    len,
                });
            } else {
                let start = owned.len();
                convert_into(&buf[t.range.clone()], t.dtype, &mut owned);
                refs.push(TensorRef {
                    source: Source::Owned,
                    start,
                    len,
                });
            }
        }
        // Row 0 of the token type table: the first `h` elements.
        let mut token_type0 = refs[emb[2]];
        token_type0.len = h;
        let layers = layer_idx
            .iter()
            .map(|ix| {
                let r = |k: usize| refs[ix[k]];
                LayerRefs {
                    query_w: r(0),
                    query_b: r(1),
                    key_w: r(2),
                    key_b: r(3),
                    value_w: r(4),
                    value_b: r(5),
                    attn_out_w: r(6),
                    attn_out_b: r(7),
                    attn_ln_g: r(8),
                    attn_ln_b: r(9),
                    inter_w: r(10),
                    inter_b: r(11),
                    out_w: r(12),
                    out_b: r(13),
                    out_ln_g: r(14),
                    out_ln_b: r(15),
                }
            })
            .collect();
        // Nothing read in place (f16/bf16, a misaligned buffer): the bytes are not needed.
        let any_borrowed = planned.iter().any(|p| p.borrowed);
        let bytes = if any_borrowed { bytes } else { no_bytes() };
        Ok(Weights {
            word: refs[emb[0]],
            position: refs[emb[1]],
            token_type0,
            emb_ln_g: refs[emb[3]],
            emb_ln_b: refs[emb[4]],
            layers,
            owned,
            bytes,
            borrowed_bytes,
            int8: Vec::new(),
            word_i8: None,
        })
    }

    /// The precision of the linear layers' weights.
    pub fn precision(&self) -> WeightPrecision {
        if self.int8.is_empty() {
            WeightPrecision::F32
        } else {
            WeightPrecision::Int8
        }
    }

    /// Quantizes the six linear weights of every layer and the word embedding table to
    /// int8 (see [`WeightPrecision::Int8`]), copies the other tensors the forward pass reads
    /// into one owned f32 arena, and lets go of the caller's bytes: afterwards
    /// [`borrowed_bytes`](Self::borrowed_bytes) is 0 and the model keeps no reference to
    /// them (their memory is freed when the caller drops its own references). A no-op if
    /// already int8. On error (out of memory, a non-finite weight) nothing changes.
    pub(crate) fn quantize_int8(&mut self, config: &BertConfig) -> Result<()> {
        if !self.int8.is_empty() || self.layers.is_empty() {
            return Ok(());
        }
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let mut int8 = Vec::new();
        int8.try_reserve_exact(self.layers.len())
            .map_err(|_| Error::OutOfMemory("int8 layer table".to_string()))?;
        for l in 0..self.layers.len() {
            let w = self.layer(l)?;
            int8.push(QuantizedLayer {
                query: QuantizedLinear::new(w.query_w, h, h)?,
                key: QuantizedLinear::new(w.key_w, h, h)?,
                value: QuantizedLinear::new(w.value_w, h, h)?,
                attn_out: QuantizedLinear::new(w.attn_out_w, h, h)?,
                inter: QuantizedLinear::new(w.inter_w, i, h)?,
                out: QuantizedLinear::new(w.out_w, h, i)?,
            });
        }
        let word_i8 = QuantizedTable::new(self.view(self.word)?, h)?;

        // Every other tensor the forward pass reads, copied (from the caller's bytes or the
        // old arena) into a new arena of exactly their size.
        let mut layers = self.layers.clone();
        let mut emb = [
            self.position,
            self.token_type0,
            self.emb_ln_g,
            self.emb_ln_b,
        ];
        /// A layer's tensors other than its linear weights.
        fn small(r: &mut LayerRefs) -> [&mut TensorRef; 10] {
            [
                &mut r.query_b,
                &mut r.key_b,
                &mut r.value_b,
                &mut r.attn_out_b,
                &mut r.attn_ln_g,
                &mut r.attn_ln_b,
                &mut r.inter_b,
                &mut r.out_b,
                &mut r.out_ln_g,
                &mut r.out_ln_b,
            ]
        }
        let keep: usize = emb.iter().map(|t| t.len).sum::<usize>()
            + layers
                .iter_mut()
                .flat_map(small)
                .map(|t| t.len)
                .sum::<usize>();
        let mut owned: Vec<f32> = Vec::new();
        owned
            .try_reserve_exact(keep)
            .map_err(|_| Error::OutOfMemory(format!("{keep} weights")))?;
        let none = TensorRef {
            source: Source::Owned,
            start: 0,
            len: 0,
        };
        for t in emb.iter_mut().chain(layers.iter_mut().flat_map(small)) {
            let start = owned.len();
            owned.extend_from_slice(self.view(*t)?);
            *t = TensorRef {
                source: Source::Owned,
                start,
                len: t.len,
            };
        }
        for r in &mut layers {
            // The f32 linear weights are no longer read.
            r.query_w = none;
            r.key_w = none;
            r.value_w = none;
            r.attn_out_w = none;
            r.inter_w = none;
            r.out_w = none;
        }

        // Nothing can fail from here on.
        [
            self.position,
            self.token_type0,
            self.emb_ln_g,
            self.emb_ln_b,
        ] = emb;
        self.word = none;
        self.layers = layers;
        self.owned = owned;
        self.borrowed_bytes = 0;
        self.bytes = no_bytes();
        self.int8 = int8;
        self.word_i8 = Some(word_i8);
        Ok(())
    }

    /// Layer `l`'s int8 linear weights, if the model is int8.
    pub(crate) fn layer_int8(&self, l: usize) -> Option<&QuantizedLayer> {
        self.int8.get(l)
    }

    /// Bytes of the caller's buffer the model reads in place.
    pub fn borrowed_bytes(&self) -> usize {
        self.borrowed_bytes
    }

    /// Bytes of weights the model owns: converted weights (0 for an aligned f32 checkpoint
    /// on a little-endian target) plus, for [`WeightPrecision::Int8`], the int8 linear
    /// weights with their scales and sums, the int8 word table and the small f32 tensors.
    pub fn owned_bytes(&self) -> usize {
        self.owned.capacity() * 4
            + self.int8.iter().map(QuantizedLayer::bytes).sum::<usize>()
            + self.word_i8.as_ref().map_or(0, QuantizedTable::bytes)
    }

    /// The memory the weights keep alive: the whole caller's buffer while any tensor is read
    /// from it (its length, including tensors the encoder does not use), plus
    /// [`owned_bytes`](Self::owned_bytes). For all-MiniLM-L6-v2 read into memory: 90.9 MB
    /// at f32 (the file, borrowed), 23.5 MB at [`WeightPrecision::Int8`] (all owned, the
    /// file let go). The tokenizer's vocabulary and the workspaces are not counted.
    pub fn memory_bytes(&self) -> usize {
        (*self.bytes).as_ref().len() + self.owned_bytes()
    }

    /// The shared model bytes while the model reads tensors from them; an empty buffer once
    /// it reads none (f16/bf16 checkpoints, [`WeightPrecision::Int8`]).
    pub fn bytes(&self) -> &ModelBytes {
        &self.bytes
    }

    /// Number of layers.
    pub(crate) fn num_layers(&self) -> usize {
        self.layers.len()
    }

    fn view(&self, r: TensorRef) -> Result<&[f32]> {
        match r.source {
            Source::Owned => self
                .owned
                .get(r.start..r.start + r.len)
                .ok_or_else(|| Error::Internal("owned weight out of range".to_string())),
            Source::Borrowed => {
                let buf: &[u8] = (*self.bytes).as_ref();
                let bytes = r
                    .len
                    .checked_mul(4)
                    .and_then(|n| buf.get(r.start..r.start.checked_add(n)?))
                    .ok_or_else(changed)?;
                // SAFETY: every bit pattern is a valid `f32`, `align_to` itself only yields
                // a correctly aligned middle part, and the slice borrows `self.bytes`.
                let (head, floats, tail) = unsafe { bytes.align_to::<f32>() };
                if !head.is_empty() || !tail.is_empty() {
                    return Err(changed());
                }
                Ok(floats)
            }
        }
    }

    pub(crate) fn embeddings(&self) -> Result<EmbeddingView<'_>> {
        Ok(EmbeddingView {
            word: self.view(self.word)?,
            word_i8: self.word_i8.as_ref(),
            position: self.view(self.position)?,
            token_type0: self.view(self.token_type0)?,
            ln_g: self.view(self.emb_ln_g)?,
            ln_b: self.view(self.emb_ln_b)?,
        })
    }

    pub(crate) fn layer(&self, l: usize) -> Result<LayerView<'_>> {
        let r = self
            .layers
            .get(l)
            .ok_or_else(|| Error::Internal(format!("layer {l} out of range")))?;
        Ok(LayerView {
            query_w: self.view(r.query_w)?,
            query_b: self.view(r.query_b)?,
            key_w: self.view(r.key_w)?,
            key_b: self.view(r.key_b)?,
            value_w: self.view(r.value_w)?,
            value_b: self.view(r.value_b)?,
            attn_out_w: self.view(r.attn_out_w)?,
            attn_out_b: self.view(r.attn_out_b)?,
            attn_ln_g: self.view(r.attn_ln_g)?,
            attn_ln_b: self.view(r.attn_ln_b)?,
            inter_w: self.view(r.inter_w)?,
            inter_b: self.view(r.inter_b)?,
            out_w: self.view(r.out_w)?,
            out_b: self.view(r.out_b)?,
            out_ln_g: self.view(r.out_ln_g)?,
            out_ln_b: self.view(r.out_ln_b)?,
        })
    }
}

fn changed() -> Error {
    Error::Internal(
        "the model bytes changed length or address after load (their AsRef must return the same bytes every time)"
            .to_string(),
    )
}

/// Appends `bytes` (little-endian elements of `dtype`, one of F32/F16/BF16) as f32. The
/// caller reserved the room.
fn convert_into(bytes: &[u8], dtype: Dtype, out: &mut Vec<f32>) {
    match dtype {
        Dtype::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        Dtype::BF16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)),
        ),
        Dtype::F16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        ),
        _ => {}
    }
}

/// IEEE binary16 to binary32, exactly (every f16 is representable as an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    match exp {
        0 => {
            // Zero or subnormal: mant * 2^-24, exact in f32.
            let v = mant as f32 * (1.0 / 16_777_216.0);
            if sign != 0 {
                -v
            } else {
                v
            }
        }
        31 => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    }
}
