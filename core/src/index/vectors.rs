//! Row storage of the index (one row per slot, contiguous) and the distance of a query to a
//! stored row, for every storage.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use super::{IndexMetric, Storage};
use crate::kernels::{self, Bf16, Kernels, RawKernels, F16};

/// Rows of one storage kind; only the vectors of that kind are non-empty.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Vectors {
    pub(crate) dims: usize,
    pub(crate) metric: IndexMetric,
    pub(crate) storage: Storage,
    /// F32: `dims` floats per slot (cosine: unit length).
    pub(crate) f32s: Vec<f32>,
    /// I8: `dims` values per slot.
    pub(crate) i8s: Vec<i8>,
    /// I8: the scale of each slot (`x ~ q * scale`).
    pub(crate) scales: Vec<f32>,
    /// I8, squared L2 only: `sum q_i^2` of each slot, for the distance between rows of
    /// different scales (the other metrics never read it, so they keep none: 4 bytes per
    /// vector). Derived from `i8s` (not stored in files).
    pub(crate) sqnorms: Vec<f32>,
    /// B1: `bytes` per slot.
    pub(crate) bits: Vec<u8>,
    /// F16 and BF16: the bits of `dims` values per slot (cosine: of the unit vector). One
    /// vector for both keeps one copy of the code that moves them.
    pub(crate) halves: Vec<u16>,
    pub(crate) slots: usize,
    /// F32, F16 and BF16 for HNSW: every row also quantized like I8 storage into `i8s`,
    /// `scales` and `sqnorms` (derived, never in files). Graph walks compare a query with
    /// those rows, reading a quarter (half) of the bytes of an f32 (f16) row (the walk is
    /// bound by memory traffic, not arithmetic), and the final candidates are re-scored on
    /// the stored rows.
    pub(crate) shadow: bool,
}

/// A query (or a stored row used as one) in the storage's own encoding (F16 and BF16:
/// f32, compared with the rows by the half-precision kernels).
#[derive(Clone, Copy)]
pub(crate) enum QueryRef<'a> {
    F32(&'a [f32]),
    I8(&'a [i8], f32, f32),
    B1(&'a [u8]),
}

/// An owned encoded query.
pub(crate) enum Query {
    F32(Vec<f32>),
    I8(Vec<i8>, f32, f32),
    B1(Vec<u8>),
}

impl Query {
    pub(crate) fn as_ref(&self) -> QueryRef<'_> {
        match self {
            Query::F32(v) => QueryRef::F32(v),
            Query::I8(v, s, n) => QueryRef::I8(v, *s, *n),
            Query::B1(v) => QueryRef::B1(v),
        }
    }
}

/// Scales a finite vector to unit length (cosine rows and queries), also one whose squared
/// length overflows or underflows f32 ([`kernels::normalize_to_unit`]). A zero vector stays
/// zero.
pub(crate) fn normalize(x: &mut [f32]) {
    let k = Kernels::active();
    kernels::normalize_to_unit(x, |x| k.l2_normalize_f32(x));
}

/// The exact f32 value of a stored F16 or BF16 bit pattern (of `storage`).
pub(crate) fn half_to_f32(storage: Storage) -> fn(u16) -> f32 {
    if storage == Storage::F16 {
        |h| F16::from_bits(h).to_f32()
    } else {
        |h| Bf16::from_bits(h).to_f32()
    }
}

/// The F16 or BF16 bit pattern nearest to an f32 (ties to even).
fn f32_to_half(storage: Storage) -> fn(f32) -> u16 {
    if storage == Storage::F16 {
        |x| F16::from_f32(x).to_bits()
    } else {
        |x| Bf16::from_f32(x).to_bits()
    }
}

/// Bytes of a packed binary row of `dims` bits.
pub(crate) fn b1_bytes(dims: usize) -> usize {
    dims.div_ceil(8)
}

/// Symmetric scalar quantization: `scale = max|x| / 127`, `q = round(x / scale)`; appends
/// the codes to `out`, returns the scale.
fn quantize(x: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 {
        out.extend(core::iter::repeat_n(0i8, x.len()));
        return 0.0;
    }
    let scale = max / 127.0;
    let inv = 127.0 / max;
    let start = out.len();
    out.resize(start + x.len(), 0);
    for (q, &v) in out[start..].iter_mut().zip(x) {
        *q = round_to_i8(v * inv);
    }
    scale
}

/// Quantizes `x` onto the end of i8 rows: the codes, the scale and, for squared L2 (the only
/// metric that reads it), the codes' squared norm.
fn push_quantized(
    x: &[f32],
    l2: bool,
    i8s: &mut Vec<i8>,
    scales: &mut Vec<f32>,
    sqnorms: &mut Vec<f32>,
) {
    let start = i8s.len();
    scales.push(quantize(x, i8s));
    if l2 {
        sqnorms.push(sqnorm_i8(&i8s[start..]));
    }
}

/// An i8 query: the codes, the scale and the squared norm.
fn quantize_query(x: &[f32]) -> Query {
    let mut out = Vec::with_capacity(x.len());
    let scale = quantize(x, &mut out);
    let sq = sqnorm_i8(&out);
    Query::I8(out, scale, sq)
}

/// `libm::roundf(x).clamp(-127.0, 127.0) as i8` (half away from zero), bit for bit, in
/// operations that vectorize: `roundf` is a call per value, which made quantizing the
/// query ~4% of an HNSW search's instructions and quantizing the rows most of a load.
/// `x - trunc(x)` is exact for every f32, so comparing it with 0.5 decides ties exactly.
#[inline(always)]
pub(crate) fn round_to_i8(x: f32) -> i8 {
    let x = x.clamp(-127.0, 127.0);
    let t = x as i32;
    let frac = x - t as f32;
    (t + (frac >= 0.5) as i32 - (frac <= -0.5) as i32) as i8
}

/// `sum q_i^2` of a row of codes. |q| <= 127, so the squares of up to 2^17 values fit an
/// i32 lane (which vectorizes); longer rows (dims reach 65,536) sum in i64 chunks.
fn sqnorm_i8(row: &[i8]) -> f32 {
    row.chunks(1 << 16)
        .map(|c| c.iter().map(|&q| q as i32 * q as i32).sum::<i32>() as i64)
        .sum::<i64>() as f32
}

/// Sign bits, bit `i` of the row in byte `i / 8`, bit `i % 8` (LSB first); padding is 0.
fn pack_bits(x: &[f32], out: &mut Vec<u8>) {
    for chunk in x.chunks(8) {
        let mut byte = 0u8;
        for (i, &v) in chunk.iter().enumerate() {
            if v > 0.0 {
                byte |= 1 << i;
            }
        }
        out.push(byte);
    }
}

impl Vectors {
    pub(crate) fn new(dims: usize, metric: IndexMetric, storage: Storage) -> Vectors {
        Vectors {
            dims,
            metric,
            storage,
            f32s: Vec::new(),
            i8s: Vec::new(),
            scales: Vec::new(),
            sqnorms: Vec::new(),
            bits: Vec::new(),
            halves: Vec::new(),
            slots: 0,
            shadow: false,
        }
    }

    /// An empty store of the same shape.
    pub(crate) fn empty_like(&self) -> Vectors {
        let mut v = Vectors::new(self.dims, self.metric, self.storage);
        v.shadow = self.shadow;
        v
    }

    /// Keeps an i8 copy of every F32, F16 or BF16 row for graph walks (see `shadow`); I8
    /// and B1 rows are compact already. On failure nothing changes.
    pub(crate) fn enable_shadow(&mut self) -> Result<(), TryReserveError> {
        if !matches!(self.storage, Storage::F32 | Storage::F16 | Storage::BF16) || self.shadow {
            return Ok(());
        }
        let d = self.dims;
        let mut i8s = Vec::new();
        i8s.try_reserve_exact(self.slots.saturating_mul(d))?;
        let mut scales = Vec::new();
        scales.try_reserve_exact(self.slots)?;
        let mut sqnorms = Vec::new();
        let l2 = self.keeps_sqnorms();
        if l2 {
            sqnorms.try_reserve_exact(self.slots)?;
        }
        let mut row = Vec::new();
        for slot in 0..self.slots {
            let x = self.row_f32(slot, &mut row);
            push_quantized(x, l2, &mut i8s, &mut scales, &mut sqnorms);
        }
        self.i8s = i8s;
        self.scales = scales;
        self.sqnorms = sqnorms;
        self.shadow = true;
        Ok(())
    }

    /// The query a graph walk compares with the rows: the i8 encoding of `q` (an encoded
    /// F32 query) when rows have an i8 copy, else `None` (walk with `q` itself).
    pub(crate) fn walk_query(&self, q: QueryRef<'_>) -> Option<Query> {
        // Every storage with a shadow takes f32 queries.
        match q {
            QueryRef::F32(x) if self.shadow => Some(quantize_query(x)),
            _ => None,
        }
    }

    /// The i8 copy of stored row `slot` as a query, when the rows have one (F32, F16 and
    /// BF16 with a shadow) or are i8 themselves; `None` otherwise.
    #[inline]
    fn shadow_row_query(&self, slot: u32) -> Option<QueryRef<'_>> {
        if !(self.shadow || self.storage == Storage::I8) {
            return None;
        }
        Some(self.i8_row_query(slot as usize))
    }

    /// Stored row `slot` as a query for distances between two stored rows in graph builds:
    /// its i8 copy when it has one ([`shadow_row_query`](Self::shadow_row_query)), else the
    /// row itself ([`row_query`](Self::row_query), half-precision rows converted into `buf`).
    #[inline]
    pub(crate) fn pair_query<'a>(&'a self, slot: u32, buf: &'a mut Vec<f32>) -> QueryRef<'a> {
        match self.shadow_row_query(slot) {
            Some(q) => q,
            None => self.row_query(slot, buf),
        }
    }

    /// I8 row `s` (the stored one or the walk's copy) as a query.
    #[inline]
    fn i8_row_query(&self, s: usize) -> QueryRef<'_> {
        let d = self.dims;
        QueryRef::I8(
            &self.i8s[s * d..(s + 1) * d],
            self.scales[s],
            self.sqnorm(s),
        )
    }

    pub(crate) fn clear(&mut self) {
        *self = self.empty_like();
    }

    /// Whether the i8 rows (stored or the walk's copy) keep [`sqnorms`](Self::sqnorms).
    fn keeps_sqnorms(&self) -> bool {
        self.metric == IndexMetric::L2sq
    }

    /// The squared norm of i8 row `slot`; 0 where none is kept (no metric but squared L2
    /// reads it).
    #[inline(always)]
    fn sqnorm(&self, slot: usize) -> f32 {
        if self.keeps_sqnorms() {
            self.sqnorms[slot]
        } else {
            0.0
        }
    }

    fn row_len(&self) -> usize {
        match self.storage {
            Storage::B1 => b1_bytes(self.dims),
            _ => self.dims,
        }
    }

    /// Row `slot` as f32 values: borrowed for F32, else converted into `buf`. Not for I8
    /// or B1 rows (an empty slice).
    pub(crate) fn row_f32<'a>(&'a self, slot: usize, buf: &'a mut Vec<f32>) -> &'a [f32] {
        let d = self.dims;
        let range = slot * d..(slot + 1) * d;
        match self.storage {
            Storage::F32 => return &self.f32s[range],
            // One loop per type with the conversion inlined (it vectorizes): graph builds
            // convert a row per neighbor candidate.
            Storage::F16 => {
                buf.clear();
                let row = F16::slice_from_bits(&self.halves[range]);
                buf.extend(row.iter().map(|h| h.to_f32()));
            }
            Storage::BF16 => {
                buf.clear();
                let row = Bf16::slice_from_bits(&self.halves[range]);
                buf.extend(row.iter().map(|h| h.to_f32()));
            }
            Storage::I8 | Storage::B1 => buf.clear(),
        }
        buf
    }

    /// Room for `additional` more rows, or nothing changes.
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let elems = additional.saturating_mul(self.row_len());
        let i8_rows = self.shadow || self.storage == Storage::I8;
        if i8_rows {
            self.i8s.try_reserve(elems)?;
            self.scales.try_reserve(additional)?;
            if self.keeps_sqnorms() {
                self.sqnorms.try_reserve(additional)?;
            }
        }
        match self.storage {
            Storage::F32 => self.f32s.try_reserve(elems),
            Storage::F16 | Storage::BF16 => self.halves.try_reserve(elems),
            Storage::I8 => Ok(()),
            Storage::B1 => self.bits.try_reserve(elems),
        }
    }

    /// Rows that fit without reallocating.
    pub(crate) fn capacity(&self) -> usize {
        let row = self.row_len().max(1);
        let sqnorms = if self.keeps_sqnorms() {
            self.sqnorms.capacity()
        } else {
            usize::MAX
        };
        let quantized = (self.i8s.capacity() / row)
            .min(self.scales.capacity())
            .min(sqnorms);
        let rows = match self.storage {
            Storage::F32 => self.f32s.capacity() / row,
            Storage::F16 | Storage::BF16 => self.halves.capacity() / row,
            Storage::I8 => return quantized,
            Storage::B1 => return self.bits.capacity() / row,
        };
        if self.shadow {
            rows.min(quantized)
        } else {
            rows
        }
    }

    /// Appends a validated vector (`dims` finite floats). Call [`try_reserve`] first: then
    /// this cannot fail.
    pub(crate) fn push(&mut self, x: &[f32]) {
        debug_assert_eq!(x.len(), self.dims);
        let l2 = self.keeps_sqnorms();
        let (i8s, scales, sqnorms) = (&mut self.i8s, &mut self.scales, &mut self.sqnorms);
        match self.storage {
            Storage::F32 => {
                let start = self.f32s.len();
                self.f32s.extend_from_slice(x);
                if self.metric == IndexMetric::Cosine {
                    normalize(&mut self.f32s[start..]);
                }
                if self.shadow {
                    push_quantized(&self.f32s[start..], l2, i8s, scales, sqnorms);
                }
            }
            Storage::I8 => {
                if self.metric == IndexMetric::Cosine {
                    let mut tmp = x.to_vec();
                    normalize(&mut tmp);
                    push_quantized(&tmp, l2, i8s, scales, sqnorms);
                } else {
                    push_quantized(x, l2, i8s, scales, sqnorms);
                }
            }
            Storage::F16 | Storage::BF16 => {
                let mut tmp = x.to_vec();
                if self.metric == IndexMetric::Cosine {
                    normalize(&mut tmp);
                }
                let (from_f32, to_f32) = (f32_to_half(self.storage), half_to_f32(self.storage));
                for t in &mut tmp {
                    let h = from_f32(*t);
                    self.halves.push(h);
                    // The copy quantizes the stored values, as one rebuilt on load does.
                    *t = to_f32(h);
                }
                if self.shadow {
                    push_quantized(&tmp, l2, i8s, scales, sqnorms);
                }
            }
            Storage::B1 => pack_bits(x, &mut self.bits),
        }
        self.slots += 1;
    }

    /// Appends slot `slot` of `other` (same shape) bit for bit.
    pub(crate) fn push_from(&mut self, other: &Vectors, slot: usize) {
        let r = self.row_len();
        match self.storage {
            Storage::F32 | Storage::F16 | Storage::BF16 => {
                let range = slot * r..(slot + 1) * r;
                match self.storage {
                    Storage::F32 => self.f32s.extend_from_slice(&other.f32s[range.clone()]),
                    _ => self.halves.extend_from_slice(&other.halves[range.clone()]),
                }
                if self.shadow {
                    self.push_i8_from(other, slot);
                }
            }
            Storage::I8 => self.push_i8_from(other, slot),
            Storage::B1 => self
                .bits
                .extend_from_slice(&other.bits[slot * r..(slot + 1) * r]),
        }
        self.slots += 1;
    }

    /// Appends i8 row `slot` of `other` (same shape), the stored one or the walk's copy.
    fn push_i8_from(&mut self, other: &Vectors, slot: usize) {
        let d = self.dims;
        self.i8s
            .extend_from_slice(&other.i8s[slot * d..(slot + 1) * d]);
        self.scales.push(other.scales[slot]);
        if self.keeps_sqnorms() {
            self.sqnorms.push(other.sqnorms[slot]);
        }
    }

    /// Recomputes the derived per-row data after loading raw rows.
    pub(crate) fn rebuild_derived(&mut self) {
        if self.storage == Storage::I8 && self.keeps_sqnorms() {
            let d = self.dims;
            self.sqnorms = self.i8s.chunks_exact(d).map(sqnorm_i8).collect();
        }
    }

    /// The stored vector of `slot`, dequantized: f32 as stored (unit length for cosine),
    /// f16 and bf16 converted exactly, i8 as `q * scale`, b1 as 1.0 for a set bit and 0.0
    /// otherwise.
    pub(crate) fn get(&self, slot: usize) -> Vec<f32> {
        let d = self.dims;
        match self.storage {
            Storage::F32 => self.f32s[slot * d..(slot + 1) * d].to_vec(),
            Storage::F16 | Storage::BF16 => {
                let mut buf = Vec::new();
                self.row_f32(slot, &mut buf);
                buf
            }
            Storage::I8 => {
                let s = self.scales[slot];
                self.i8s[slot * d..(slot + 1) * d]
                    .iter()
                    .map(|&q| q as f32 * s)
                    .collect()
            }
            Storage::B1 => {
                let r = self.row_len();
                let row = &self.bits[slot * r..(slot + 1) * r];
                (0..d)
                    .map(|i| ((row[i / 8] >> (i % 8)) & 1) as f32)
                    .collect()
            }
        }
    }

    /// Encodes a validated query the way rows are stored.
    pub(crate) fn encode_query(&self, x: &[f32]) -> Query {
        match self.storage {
            Storage::F32 | Storage::F16 | Storage::BF16 => {
                let mut v = x.to_vec();
                if self.metric == IndexMetric::Cosine {
                    normalize(&mut v);
                }
                Query::F32(v)
            }
            Storage::I8 if self.metric == IndexMetric::Cosine => {
                let mut tmp = x.to_vec();
                normalize(&mut tmp);
                quantize_query(&tmp)
            }
            Storage::I8 => quantize_query(x),
            Storage::B1 => {
                let mut out = Vec::with_capacity(b1_bytes(x.len()));
                pack_bits(x, &mut out);
                Query::B1(out)
            }
        }
    }

    /// Stored row `slot` as a query (for distances between two stored rows); half-precision
    /// rows are converted into `buf`, which graph builds reuse across candidates.
    #[inline]
    pub(crate) fn row_query<'a>(&'a self, slot: u32, buf: &'a mut Vec<f32>) -> QueryRef<'a> {
        let s = slot as usize;
        let r = self.row_len();
        match self.storage {
            Storage::F32 => QueryRef::F32(&self.f32s[s * r..(s + 1) * r]),
            Storage::F16 | Storage::BF16 => QueryRef::F32(self.row_f32(s, buf)),
            Storage::I8 => self.i8_row_query(s),
            Storage::B1 => QueryRef::B1(&self.bits[s * r..(s + 1) * r]),
        }
    }

    /// Hints the CPU to start loading row `slot`.
    #[inline(always)]
    pub(crate) fn prefetch(&self, slot: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let s = slot as usize;
            let (ptr, bytes) = match self.storage {
                Storage::F32 => (
                    self.f32s.as_ptr().wrapping_add(s * self.dims) as *const i8,
                    self.dims * 4,
                ),
                Storage::F16 | Storage::BF16 => (
                    self.halves.as_ptr().wrapping_add(s * self.dims) as *const i8,
                    self.dims * 2,
                ),
                Storage::I8 => (self.i8s.as_ptr().wrapping_add(s * self.dims), self.dims),
                Storage::B1 => {
                    let r = self.row_len();
                    (self.bits.as_ptr().wrapping_add(s * r) as *const i8, r)
                }
            };
            let lines = bytes.div_ceil(64).min(32);
            for i in 0..lines {
                // SAFETY: prefetch never faults, whatever the address; `wrapping_add` keeps
                // the pointer arithmetic itself defined.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(i * 64)) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }
}

/// The distance of one query to stored rows.
pub(crate) struct Dist<'a> {
    vecs: &'a Vectors,
    q: QueryRef<'a>,
    k: RawKernels,
}

impl<'a> Dist<'a> {
    #[inline]
    pub(crate) fn new(vecs: &'a Vectors, q: QueryRef<'a>) -> Dist<'a> {
        Dist {
            vecs,
            q,
            k: Kernels::active().raw(),
        }
    }

    /// Hints the CPU to start loading the row this distance reads for `slot`.
    #[inline(always)]
    pub(crate) fn prefetch(&self, slot: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let v = self.vecs;
            let s = slot as usize;
            let (ptr, bytes) = match self.q {
                QueryRef::F32(_) => match v.storage {
                    Storage::F16 | Storage::BF16 => (
                        v.halves.as_ptr().wrapping_add(s * v.dims) as *const i8,
                        v.dims * 2,
                    ),
                    _ => (
                        v.f32s.as_ptr().wrapping_add(s * v.dims) as *const i8,
                        v.dims * 4,
                    ),
                },
                QueryRef::I8(..) => (v.i8s.as_ptr().wrapping_add(s * v.dims), v.dims),
                QueryRef::B1(q) => (
                    v.bits.as_ptr().wrapping_add(s * q.len()) as *const i8,
                    q.len(),
                ),
            };
            let lines = bytes.div_ceil(64).min(32);
            for i in 0..lines {
                // SAFETY: prefetch never faults, whatever the address; `wrapping_add` keeps
                // the pointer arithmetic itself defined.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(i * 64)) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// How many rows ahead of its distance a walk should [`prefetch`](Self::prefetch): about
    /// 36 cache lines in flight. On 100,000 x 384 i8 rows (6 lines each; bench/README.md)
    /// 3 to 6 rows ahead searched 8-15% faster than 1 ahead, all of a list at once (~90
    /// lines) slower than 1.
    #[inline]
    pub(crate) fn prefetch_ahead(&self) -> usize {
        let bytes = match self.q {
            QueryRef::F32(_) if self.vecs.storage == Storage::F32 => self.vecs.dims * 4,
            QueryRef::F32(_) => self.vecs.dims * 2,
            QueryRef::I8(..) => self.vecs.dims,
            QueryRef::B1(q) => q.len(),
        };
        (36 / bytes.div_ceil(64).clamp(1, 32)).clamp(1, 8)
    }

    /// Before the distance to `ids[i]` in a walk over `ids`: requests the row `ahead` ids on
    /// (at `i == 0` the first `ahead` rows too). Graph walks wait on memory (the kernel's
    /// samples sit on its row loads), and one row ahead left most of each row's latency
    /// exposed; `ahead` is [`prefetch_ahead`](Self::prefetch_ahead).
    #[inline(always)]
    pub(crate) fn prefetch_for(&self, ids: &[u32], i: usize, ahead: usize) {
        if i == 0 {
            for &id in ids.iter().take(ahead) {
                self.prefetch(id);
            }
        }
        if let Some(&next) = ids.get(i + ahead) {
            self.prefetch(next);
        }
    }

    /// Distance to stored slot `slot` (smaller is closer): cosine and inner product
    /// `1 - a.b`, squared L2, hamming (bit count) or jaccard.
    #[inline(always)]
    pub(crate) fn to(&self, slot: u32) -> f32 {
        let v = self.vecs;
        let s = slot as usize;
        match self.q {
            QueryRef::F32(q) if v.storage != Storage::F32 => self.to_half(q, s),
            QueryRef::F32(q) => {
                let d = v.dims;
                let row = &v.f32s[s * d..(s + 1) * d];
                if v.metric == IndexMetric::L2sq {
                    // SAFETY: the table came from `Kernels::active()` (this CPU runs it).
                    unsafe { (self.k.l2sq_f32)(q, row) }
                } else {
                    // SAFETY: as above.
                    1.0 - unsafe { (self.k.dot_f32)(q, row) }
                }
            }
            QueryRef::I8(q, qs, qn) => {
                let d = v.dims;
                let row = &v.i8s[s * d..(s + 1) * d];
                // SAFETY: as above.
                let dot = unsafe { (self.k.dot_i8)(q, row) } as f32;
                let rs = v.scales[s];
                if v.metric == IndexMetric::L2sq {
                    let l2 = qs * qs * qn + rs * rs * v.sqnorms[s] - 2.0 * qs * rs * dot;
                    l2.max(0.0)
                } else {
                    1.0 - qs * rs * dot
                }
            }
            QueryRef::B1(q) => {
                let r = q.len();
                let row = &v.bits[s * r..(s + 1) * r];
                if v.metric == IndexMetric::Jaccard {
                    // SAFETY: as above.
                    let (i, u) = unsafe { (self.k.jaccard_b1)(q, row) };
                    kernels::jaccard_distance(i, u)
                } else {
                    // SAFETY: as above.
                    unsafe { (self.k.hamming_b1)(q, row) as f32 }
                }
            }
        }
    }
}

impl Dist<'_> {
    /// [`to`](Self::to) for an f32 query and f16 or bf16 rows. Out of line: `to` is inlined
    /// into every graph walk, which then carries one call here instead of four more kernel
    /// calls (a few KB of wasm), and a call is cheap next to a row's distance.
    #[inline(never)]
    fn to_half(&self, q: &[f32], s: usize) -> f32 {
        let v = self.vecs;
        let r = s * v.dims..(s + 1) * v.dims;
        let l2 = v.metric == IndexMetric::L2sq;
        // SAFETY: the table came from `Kernels::active()` (this CPU runs it).
        let x = unsafe {
            match v.storage {
                Storage::F16 if l2 => (self.k.l2sq_f16)(q, F16::slice_from_bits(&v.halves[r])),
                Storage::F16 => (self.k.dot_f16)(q, F16::slice_from_bits(&v.halves[r])),
                _ if l2 => (self.k.l2sq_bf16)(q, Bf16::slice_from_bits(&v.halves[r])),
                _ => (self.k.dot_bf16)(q, Bf16::slice_from_bits(&v.halves[r])),
            }
        };
        if l2 {
            x
        } else {
            1.0 - x
        }
    }
}

// ---- serialization support (format.rs) ----
// format.rs reads and writes rows only through the items below, so the file layout does
// not depend on the in-memory one: a layout change only has to keep these working.

/// The stored rows of every slot in their storage form, slot after slot.
pub(crate) enum RowsRef<'a> {
    /// `dims` floats per slot.
    F32(&'a [f32]),
    /// `dims` values per slot and one scale per slot.
    I8(&'a [i8], &'a [f32]),
    /// `ceil(dims / 8)` bytes per slot.
    B1(&'a [u8]),
    /// `dims` f16 or bf16 bit patterns per slot.
    Half(&'a [u16]),
}

/// Owned [`RowsRef`], as read from a file.
pub(crate) enum Rows {
    F32(Vec<f32>),
    I8(Vec<i8>, Vec<f32>),
    B1(Vec<u8>),
    Half(Vec<u16>),
}

impl Vectors {
    pub(crate) fn export_rows(&self) -> RowsRef<'_> {
        match self.storage {
            Storage::F32 => RowsRef::F32(&self.f32s),
            Storage::I8 => RowsRef::I8(&self.i8s, &self.scales),
            Storage::B1 => RowsRef::B1(&self.bits),
            Storage::F16 | Storage::BF16 => RowsRef::Half(&self.halves),
        }
    }

    /// The store of `slots` rows read from a file (format.rs checked that `rows` matches
    /// `storage` and holds exactly `slots` rows); derived data is recomputed.
    pub(crate) fn import(
        dims: usize,
        metric: IndexMetric,
        storage: Storage,
        slots: usize,
        rows: Rows,
    ) -> Vectors {
        let mut v = Vectors::new(dims, metric, storage);
        match rows {
            Rows::F32(f) => v.f32s = f,
            Rows::I8(q, s) => {
                v.i8s = q;
                v.scales = s;
            }
            Rows::B1(b) => v.bits = b,
            Rows::Half(h) => v.halves = h,
        }
        v.slots = slots;
        v.rebuild_derived();
        v
    }
}
