//! The portable index file: layout, versioning and validation rules in `FORMAT.md` (next
//! to this file).
//!
//! Writing goes through the `export_*` items and reading through the `import*` items of the
//! "serialization support" sections at the end of mod.rs, vectors.rs and hnsw.rs, so the
//! file layout does not follow the in-memory one. Reading checks the checksum, then every
//! count against the bytes left before allocating anything, then every value against its
//! bound; nothing in a file is trusted.

use alloc::format;
use alloc::vec::Vec;

use super::hnsw::{max_neighbors, GraphHeader, Hnsw, MAX_LEVEL, NONE};
use super::tombstones::Tombstones;
use super::vectors::{b1_bytes, half_to_f32, Rows, RowsRef, Vectors};
use super::{HnswParams, Index, IndexKind, IndexMetric, IndexOptions, Storage, MAX_SLOTS};
use crate::{Error, Result};

/// The first four bytes of every index file.
pub(crate) const MAGIC: [u8; 4] = *b"FVIX";
/// The format version of an index without a model id: the original layout, still written
/// for such indexes so every release reads them.
pub(crate) const VERSION_1: u32 = 1;
/// The format version of an index that records the model id of its text encoder: v1's
/// header followed by the u64 model id, the rest as in v1.
pub(crate) const VERSION_2: u32 = 2;
/// The format version of an index with f16 or bf16 rows (storage codes 3 and 4): v2's
/// header followed by a u64 of flags (bit 0: the model id field holds an id), the rest as
/// in v1 with rows of 2-byte values.
pub(crate) const VERSION_3: u32 = 3;
/// Bytes of the fixed header of a v1 file (magic and version included).
pub(crate) const HEADER_LEN: usize = 88;
/// Bytes of the fixed header of a v2 file: v1's, then the model id.
pub(crate) const HEADER_LEN_V2: usize = HEADER_LEN + 8;
/// Bytes of the fixed header of a v3 file: v2's, then the flags.
pub(crate) const HEADER_LEN_V3: usize = HEADER_LEN_V2 + 8;
/// v3 flags: the model id field holds the index's model id (else it is 0).
const FLAG_MODEL_ID: u64 = 1;
const KIND_EXACT: u32 = 0;
const KIND_HNSW: u32 = 1;
/// No quantization scale (f32 and b1 storage).
const SCALES_NONE: u32 = 0;
/// I8: one f32 scale per vector, `scale = max|x| / 127`, `x ~ q * scale`.
const SCALES_I8_PER_VECTOR: u32 = 1;

fn corrupt(msg: &str) -> Error {
    Error::CorruptFile(msg.into())
}

fn too_large() -> Error {
    Error::OutOfMemory("could not allocate the index file".into())
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor
/// 0xFFFFFFFF): the checksum of iSCSI (RFC 3720), ext4 and SSE 4.2's `crc32`. It detects
/// every error burst up to 32 bits long, so every single flipped byte. x86_64 CPUs with
/// SSE 4.2 (all since 2008) compute it in hardware; elsewhere (wasm32 included) it is
/// [`crc32c_portable`].
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if has_sse42() {
        // SAFETY: the CPU supports SSE 4.2 (checked just above).
        return unsafe { crc32c_sse42(data) };
    }
    crc32c_portable(data)
}

#[cfg(target_arch = "x86_64")]
fn has_sse42() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("sse4.2")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "sse4.2")
    }
}

/// The `crc32` instruction, 8 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn crc32c_sse42(data: &[u8]) -> u32 {
    use core::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut crc = !0u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        crc = _mm_crc32_u64(crc, u64::from_le_bytes(word));
    }
    let mut crc = crc as u32;
    for &b in chunks.remainder() {
        crc = _mm_crc32_u8(crc, b);
    }
    !crc
}

/// CRC-32C slicing-by-8, with the tables built per call on the stack (about 4,000
/// operations, 8 KiB) rather than stored, which keeps them out of the wasm module's data.
pub(crate) fn crc32c_portable(data: &[u8]) -> u32 {
    let mut t = [[0u32; 256]; 8];
    for (i, e) in t[0].iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = (c >> 1) ^ (0x82F6_3B78 & (c & 1).wrapping_neg());
        }
        *e = c;
    }
    for k in 1..8 {
        for i in 0..256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
        }
    }
    let mut crc = !0u32;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ b as u32) & 0xff) as usize];
    }
    !crc
}

/// Fills a buffer allocated at its final size: no growth checks per value.
struct Writer {
    buf: Vec<u8>,
    pos: usize,
}

impl Writer {
    // Out of line: one call per field is smaller than inlined bounds checks everywhere.
    #[inline(never)]
    fn bytes(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    fn u16s(&mut self, v: &[u16]) {
        let dst = &mut self.buf[self.pos..self.pos + 2 * v.len()];
        for (d, x) in dst.chunks_exact_mut(2).zip(v) {
            d.copy_from_slice(&x.to_le_bytes());
        }
        self.pos += 2 * v.len();
    }

    fn f32s(&mut self, v: &[f32]) {
        let dst = &mut self.buf[self.pos..self.pos + 4 * v.len()];
        for (d, x) in dst.chunks_exact_mut(4).zip(v) {
            d.copy_from_slice(&x.to_le_bytes());
        }
        self.pos += 4 * v.len();
    }
}

/// `a * b + c` in usize, or the file would not fit in memory.
fn size(a: usize, b: usize, c: usize) -> Result<usize> {
    a.checked_mul(b)
        .and_then(|x| x.checked_add(c))
        .ok_or_else(too_large)
}

pub(crate) fn to_bytes(index: &Index) -> Result<Vec<u8>> {
    let p = index.export_parts();
    let n = p.keys.len();
    let o = p.options;
    let rows = p.vecs.export_rows();
    let row_bytes = match rows {
        RowsRef::F32(f) => size(f.len(), 4, 0)?,
        RowsRef::I8(q, s) => size(s.len(), 4, q.len())?,
        RowsRef::B1(b) => b.len(),
        RowsRef::Half(h) => size(h.len(), 2, 0)?,
    };
    let mut graph_words = 0usize;
    if let Some(g) = p.hnsw {
        for slot in 0..n {
            for level in 0..=g.export_level(slot) as usize {
                let count = g.export_neighbors(slot, level).len();
                graph_words = size(1, count + 1, graph_words)?;
            }
        }
    }
    let graph_bytes = match p.hnsw {
        Some(_) => size(graph_words, 4, n)?,
        None => 0,
    };
    // The lowest version that holds the index (FORMAT.md, "Versioning").
    let half = matches!(rows, RowsRef::Half(_));
    let (version, header_len) = match (half, p.model_id.is_some()) {
        (true, _) => (VERSION_3, HEADER_LEN_V3),
        (false, true) => (VERSION_2, HEADER_LEN_V2),
        (false, false) => (VERSION_1, HEADER_LEN),
    };
    let mut total = size(n, 8, header_len + 4)?;
    total = size(1, n.div_ceil(8), total)?;
    total = size(1, row_bytes, total)?;
    total = size(1, graph_bytes, total)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(total).map_err(|_| too_large())?;
    buf.resize(total, 0);
    let mut w = Writer { buf, pos: 0 };

    // Header.
    w.bytes(&MAGIC);
    w.u32(version);
    w.u32(o.dims as u32);
    w.u32(o.metric as i32 as u32);
    w.u32(o.storage as i32 as u32);
    let h = p.hnsw.map(Hnsw::export_header);
    w.u32(if h.is_some() { KIND_HNSW } else { KIND_EXACT });
    w.u32(if o.storage == Storage::I8 {
        SCALES_I8_PER_VECTOR
    } else {
        SCALES_NONE
    });
    let h = h.unwrap_or(GraphHeader {
        m: 0,
        ef_construction: 0,
        ef_search: 0,
        seed: 0,
        rng: 0,
        entry: NONE,
        max_level: 0,
    });
    w.u32(h.m as u32);
    w.u32(h.ef_construction as u32);
    w.u32(h.ef_search as u32);
    w.u64(h.seed);
    w.u64(h.rng);
    w.u64(n as u64);
    w.u64((p.dead.len() - p.dead.removed()) as u64);
    w.u32(h.entry);
    w.u32(h.max_level as u32);
    w.u64(graph_words as u64);
    if version >= VERSION_2 {
        w.u64(p.model_id.unwrap_or(0));
    }
    if version == VERSION_3 {
        w.u64(if p.model_id.is_some() {
            FLAG_MODEL_ID
        } else {
            0
        });
    }
    debug_assert_eq!(w.pos, header_len);

    // Body.
    for &k in p.keys {
        w.u64(k);
    }
    for i in 0..n.div_ceil(8) {
        w.bytes(&[p.dead.bitmap_byte(i)]);
    }
    match rows {
        RowsRef::F32(f) => w.f32s(f),
        RowsRef::I8(q, s) => {
            let dst = &mut w.buf[w.pos..w.pos + q.len()];
            for (d, &x) in dst.iter_mut().zip(q) {
                *d = x as u8;
            }
            w.pos += q.len();
            w.f32s(s);
        }
        RowsRef::B1(b) => w.bytes(b),
        RowsRef::Half(h) => w.u16s(h),
    }
    if let Some(g) = p.hnsw {
        for slot in 0..n {
            w.bytes(&[g.export_level(slot)]);
        }
        for slot in 0..n {
            for level in 0..=g.export_level(slot) as usize {
                let ids = g.export_neighbors(slot, level);
                w.u32(ids.len() as u32);
                for &id in ids {
                    w.u32(id);
                }
            }
        }
    }
    let sum = crc32c(&w.buf[..w.pos]);
    w.u32(sum);
    debug_assert_eq!(w.pos, total);
    Ok(w.buf)
}

/// A cursor over the bytes of a file that never reads past the end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `len` bytes.
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8]> {
        if len > self.left() {
            return Err(Error::CorruptFile(format!(
                "truncated: {what} needs {len} bytes but {} are left",
                self.left()
            )));
        }
        let s = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    /// The next `count` items of `item` bytes: checked against the bytes left before the
    /// caller allocates anything for them.
    fn items(&mut self, count: u64, item: u64, what: &str) -> Result<&'a [u8]> {
        match count.checked_mul(item) {
            Some(len) if len <= self.left() as u64 => self.take(len as usize, what),
            _ => Err(Error::CorruptFile(format!(
                "{what}: {count} items of {item} bytes do not fit in the {} bytes left",
                self.left()
            ))),
        }
    }
}

/// An empty vector with room for `n` items, or [`Error::OutOfMemory`].
fn with_room<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Error::OutOfMemory("could not allocate memory for the loaded index".into()))?;
    Ok(v)
}

fn f32_at(b: &[u8]) -> f32 {
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads `count` f32s; every one must be finite (and non-negative with `non_negative`).
fn read_f32s(r: &mut Reader<'_>, count: u64, non_negative: bool, what: &str) -> Result<Vec<f32>> {
    let bytes = r.items(count, 4, what)?;
    let mut v = with_room(bytes.len() / 4)?;
    v.extend(bytes.chunks_exact(4).map(f32_at));
    if let Some(i) = v
        .iter()
        .position(|x| !x.is_finite() || (non_negative && *x < 0.0))
    {
        return Err(Error::CorruptFile(format!(
            "{what}: value {i} is not finite or out of range"
        )));
    }
    Ok(v)
}

/// Reads `count` 2-byte values; every one must be finite.
fn read_halves(
    r: &mut Reader<'_>,
    count: u64,
    to_f32: fn(u16) -> f32,
    what: &str,
) -> Result<Vec<u16>> {
    let bytes = r.items(count, 2, what)?;
    let mut v = with_room(bytes.len() / 2)?;
    v.extend(
        bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]])),
    );
    if let Some(i) = v.iter().position(|&x| !to_f32(x).is_finite()) {
        return Err(Error::CorruptFile(format!(
            "{what}: value {i} is not finite"
        )));
    }
    Ok(v)
}

pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Index> {
    if bytes.len() < 4 {
        return Err(corrupt("truncated: shorter than the magic number"));
    }
    if bytes[..4] != MAGIC {
        return Err(corrupt("bad magic: not a ferrovec index file"));
    }
    if bytes.len() < 8 {
        return Err(corrupt("truncated: no format version"));
    }
    let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let header_len = match version {
        VERSION_1 => HEADER_LEN,
        VERSION_2 => HEADER_LEN_V2,
        VERSION_3 => HEADER_LEN_V3,
        _ => return Err(Error::UnsupportedVersion(version)),
    };
    if bytes.len() < header_len + 4 {
        return Err(corrupt("truncated: shorter than the header and checksum"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    if crc32c(body) != u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) {
        return Err(corrupt(
            "checksum mismatch: the file is truncated or was modified",
        ));
    }
    // Header: every field is checked before anything is allocated. The length check above
    // covers it, so fields are read without further bounds errors.
    let h = &body[..header_len];
    let le32 = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let le64 = |at: usize| le32(at) as u64 | (le32(at + 4) as u64) << 32;
    let (dims, metric, storage, kind, scales) = (le32(8), le32(12), le32(16), le32(20), le32(24));
    let (m, ef_construction, ef_search) = (le32(28), le32(32), le32(36));
    let (seed, rng, n, live) = (le64(40), le64(48), le64(56), le64(64));
    let (entry, max_level, graph_words) = (le32(72), le32(76), le64(80));
    // v2: the model id of the encoder that made the vectors (any u64 value); v3: the same
    // field, holding an id when flag bit 0 says so (else 0).
    let model_id = match version {
        VERSION_2 => Some(le64(HEADER_LEN)),
        VERSION_3 => {
            let flags = le64(HEADER_LEN_V2);
            if flags & !FLAG_MODEL_ID != 0 {
                return Err(corrupt("unknown flags set in the header"));
            }
            if flags & FLAG_MODEL_ID != 0 {
                Some(le64(HEADER_LEN))
            } else if le64(HEADER_LEN) != 0 {
                return Err(corrupt("model id set without its flag"));
            } else {
                None
            }
        }
        _ => None,
    };
    let mut r = Reader {
        buf: body,
        pos: header_len,
    };

    let metric = i32::try_from(metric)
        .ok()
        .and_then(|c| IndexMetric::from_code(c).ok())
        .ok_or_else(|| corrupt("unknown metric code"))?;
    let storage = i32::try_from(storage)
        .ok()
        .and_then(|c| Storage::from_code(c).ok())
        .ok_or_else(|| corrupt("unknown storage code"))?;
    // f16 and bf16 rows exist from v3 on, and v3 is written only for them.
    let half = matches!(storage, Storage::F16 | Storage::BF16);
    if half != (version == VERSION_3) {
        return Err(corrupt(if half {
            "unknown storage code (f16 and bf16 rows need format version 3)"
        } else {
            "a version 3 file holds f16 or bf16 rows"
        }));
    }
    let hnsw = match kind {
        KIND_EXACT => {
            if (m, ef_construction, ef_search, entry, max_level) != (0, 0, 0, NONE, 0)
                || (seed, rng, graph_words) != (0, 0, 0)
            {
                return Err(corrupt("graph fields set in an exact index"));
            }
            None
        }
        KIND_HNSW => Some(HnswParams {
            m: m as usize,
            ef_construction: ef_construction as usize,
            ef_search: ef_search as usize,
            seed,
        }),
        _ => return Err(corrupt("unknown index kind")),
    };
    let options = IndexOptions {
        dims: dims as usize,
        metric,
        storage,
        kind: hnsw.map_or(IndexKind::Exact, IndexKind::Hnsw),
    };
    options
        .validate()
        .map_err(|e| Error::CorruptFile(format!("bad header: {e}")))?;
    let expected_scales = if storage == Storage::I8 {
        SCALES_I8_PER_VECTOR
    } else {
        SCALES_NONE
    };
    if scales != expected_scales {
        return Err(corrupt("scale scheme does not match the storage"));
    }
    if n > MAX_SLOTS as u64 {
        return Err(corrupt("slot count above the limit (2^32 - 2)"));
    }
    if live > n {
        return Err(corrupt("live count above the slot count"));
    }
    if max_level > MAX_LEVEL as u32 {
        return Err(corrupt("top level above the limit"));
    }
    let dims = dims as usize;

    // Keys: the first section that depends on `n`, so a hostile `n` stops here.
    let raw = r.items(n, 8, "keys")?;
    let n = n as usize;
    let mut keys = with_room::<u64>(n)?;
    for b in raw.chunks_exact(8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        keys.push(u64::from_le_bytes(a));
    }

    // Removed slots: a bitmap, LSB first.
    let raw = r.items(n.div_ceil(8) as u64, 1, "removed-slot bitmap")?;
    let mut dead = Tombstones::default();
    dead.try_reserve(n)
        .map_err(|_| Error::OutOfMemory("could not allocate memory for the loaded index".into()))?;
    for (i, &byte) in raw.iter().enumerate() {
        let valid = (n - i * 8).min(8);
        if valid < 8 && byte >> valid != 0 {
            return Err(corrupt("padding bits set in the removed-slot bitmap"));
        }
        for b in 0..valid {
            dead.push((byte >> b) & 1 == 1);
        }
    }
    let removed = dead.removed() as u64;
    if removed + live != n as u64 {
        return Err(corrupt("live count does not match the removed-slot bitmap"));
    }

    // Rows, in their storage form.
    let rows = match storage {
        Storage::F32 => Rows::F32(read_f32s(
            &mut r,
            n as u64 * dims as u64,
            false,
            "f32 rows",
        )?),
        Storage::I8 => {
            let raw = r.items(n as u64 * dims as u64, 1, "i8 rows")?;
            if raw.contains(&0x80) {
                return Err(corrupt(
                    "i8 rows hold -128 (quantized values are -127..=127)",
                ));
            }
            let mut q = with_room::<i8>(raw.len())?;
            q.extend(raw.iter().map(|&b| b as i8));
            Rows::I8(q, read_f32s(&mut r, n as u64, true, "i8 scales")?)
        }
        Storage::B1 => {
            let row = b1_bytes(dims);
            let raw = r.items(n as u64 * row as u64, 1, "b1 rows")?;
            if !dims.is_multiple_of(8) {
                let pad = 0xffu8 << (dims % 8);
                if raw.chunks_exact(row).any(|c| c[row - 1] & pad != 0) {
                    return Err(corrupt("padding bits set in a b1 row"));
                }
            }
            let mut b = with_room::<u8>(raw.len())?;
            b.extend_from_slice(raw);
            Rows::B1(b)
        }
        Storage::F16 | Storage::BF16 => Rows::Half(read_halves(
            &mut r,
            n as u64 * dims as u64,
            half_to_f32(storage),
            if storage == Storage::F16 {
                "f16 rows"
            } else {
                "bf16 rows"
            },
        )?),
    };
    let vecs = Vectors::import(dims, metric, storage, n, rows);

    let graph = match hnsw {
        None => None,
        Some(p) => Some(read_graph(
            &mut r,
            p,
            rng,
            n,
            entry,
            max_level,
            graph_words,
        )?),
    };
    if r.left() != 0 {
        return Err(corrupt("unexpected bytes after the last section"));
    }
    Index::import_parts(options, keys, dead, vecs, graph, model_id)
}

/// The HNSW section: a level per slot, then every slot's neighbor lists (levels 0 up, each
/// a count and that many ids). Checks every level, count and id before building the graph.
fn read_graph(
    r: &mut Reader<'_>,
    p: HnswParams,
    rng: u64,
    n: usize,
    entry: u32,
    max_level: u32,
    graph_words: u64,
) -> Result<Hnsw> {
    let levels = r.items(n as u64, 1, "node levels")?;
    if let Some(s) = levels.iter().position(|&l| l as u32 > max_level) {
        return Err(Error::CorruptFile(format!(
            "node {s} has a level above the graph's top level"
        )));
    }
    if n == 0 {
        if entry != NONE || max_level != 0 {
            return Err(corrupt("entry point in an empty graph"));
        }
    } else if entry as usize >= n || levels[entry as usize] as u32 != max_level {
        return Err(corrupt("entry point out of range or not on the top level"));
    }
    // The lists must fill the rest of the file exactly.
    let raw = r.items(graph_words, 4, "neighbor lists")?;
    if r.left() != 0 {
        return Err(corrupt("neighbor lists do not end where the file does"));
    }
    let mut words = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut lists = with_room::<u32>(graph_words as usize)?;
    for (slot, &top) in levels.iter().enumerate() {
        for level in 0..=top as usize {
            let count = words
                .next()
                .ok_or_else(|| corrupt("neighbor lists too short"))?;
            if count as usize > max_neighbors(p.m, level) {
                return Err(Error::CorruptFile(format!(
                    "node {slot} has {count} neighbors at level {level}, above the limit"
                )));
            }
            lists.push(count);
            for _ in 0..count {
                let id = words
                    .next()
                    .ok_or_else(|| corrupt("neighbor lists too short"))?;
                if id as usize >= n || (levels[id as usize] as usize) < level {
                    return Err(Error::CorruptFile(format!(
                        "node {slot} links to {id} at level {level}: no such node there"
                    )));
                }
                lists.push(id);
            }
        }
    }
    if words.next().is_some() {
        return Err(corrupt("neighbor lists longer than the graph"));
    }
    let header = GraphHeader {
        m: p.m,
        ef_construction: p.ef_construction,
        ef_search: p.ef_search,
        seed: p.seed,
        rng,
        entry,
        max_level: max_level as u8,
    };
    let mut own = with_room::<u8>(n)?;
    own.extend_from_slice(levels);
    Hnsw::import(header, own, &lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time CRC-32C, the definition the table-driven one must match.
    fn crc32c_bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc32c_matches_published_vectors() {
        let inc: Vec<u8> = (0..32).collect();
        let dec: Vec<u8> = (0..32).rev().collect();
        // The CRC catalogue's check value, and RFC 3720 appendix B.4.
        let vectors: [(&[u8], u32); 6] = [
            (b"123456789", 0xE306_9283),
            (&[0u8; 32], 0x8A91_36AA),
            (&[0xffu8; 32], 0x62A8_AB43),
            (&inc, 0x46DD_794E),
            (&dec, 0x113F_DB5C),
            (b"", 0),
        ];
        for (data, expected) in vectors {
            assert_eq!(crc32c(data), expected);
            assert_eq!(crc32c_portable(data), expected);
            assert_eq!(crc32c_bitwise(data), expected);
        }
    }

    #[test]
    fn crc32c_fast_paths_match_bitwise_at_every_length_and_offset() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for start in 0..9 {
            for end in start..data.len() {
                let expected = crc32c_bitwise(&data[start..end]);
                assert_eq!(
                    crc32c_portable(&data[start..end]),
                    expected,
                    "{start}..{end}"
                );
                assert_eq!(crc32c(&data[start..end]), expected, "{start}..{end}");
            }
        }
    }
}
