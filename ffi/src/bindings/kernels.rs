//! Distance kernels for the foreign languages, on the process-wide active instruction set.
//!
//! f32 vectors are little-endian bytes (see the module docs); i8 vectors are their bytes as
//! two's complement; binary vectors are bits packed in bytes.

use ferrovec_core::kernels::{self, Isa, Metric};
use ferrovec_core::Error;

use super::bytes::{f32s_from_le_bytes, f32s_to_le_bytes, i8s_from_bytes};

// The core enums, described to UniFFI here because core does not depend on UniFFI's export
// machinery (only its error derive). Variants must match core exactly; the compiler checks.

/// The distance a scan or index computes. Smaller is always closer.
#[uniffi::remote(Enum)]
pub enum Metric {
    /// Negated inner product, `-(a . b)`.
    Dot = 0,
    /// Cosine distance, `1 - cos(a, b)`, in `[0, 2]`.
    Cosine = 1,
    /// Squared Euclidean distance.
    L2sq = 2,
}

/// An instruction set ferrovec has kernels for.
#[uniffi::remote(Enum)]
pub enum Isa {
    /// Portable Rust, the reference every other path is tested against.
    Scalar,
    /// x86_64 AVX2 with FMA.
    Avx2,
    /// x86_64 AVX-512 F/BW/VL, using VNNI and VPOPCNTDQ where the CPU has them.
    Avx512,
    /// aarch64 Advanced SIMD.
    Neon,
    /// WebAssembly 128-bit SIMD.
    Simd128,
}

/// One entry of a [`top_k`] result.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Hit {
    /// Position of the score in the input (for a scan: the row number).
    pub index: u64,
    /// The score (distance) at that position.
    pub score: f32,
}

/// A vector scaled to unit length, and its length before scaling.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Normalized {
    /// The scaled vector (little-endian f32), or the input unchanged if its length was zero,
    /// infinite or NaN.
    pub vector: Vec<u8>,
    /// The Euclidean length of the input.
    pub norm: f32,
}

/// The ferrovec library version, e.g. `"0.1.0"`.
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The instruction set the kernels currently run on.
#[uniffi::export]
pub fn active_isa() -> Isa {
    kernels::active_isa()
}

/// Every instruction set this machine can run, from the most portable to the best.
#[uniffi::export]
pub fn available_isas() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .collect()
}

/// Makes `isa` the active instruction set for the whole process (to test or benchmark a
/// lower level). Fails with `UnsupportedIsa`, changing nothing, if this machine cannot run it.
#[uniffi::export]
pub fn force_isa(isa: Isa) -> Result<(), Error> {
    kernels::force(isa)
}

/// Inner product `sum a_i * b_i` of two f32 vectors.
#[uniffi::export]
pub fn dot_f32(a: &[u8], b: &[u8]) -> Result<f32, Error> {
    kernels::dot_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
}

/// Cosine distance `1 - cos(a, b)` of two f32 vectors, in `[0, 2]` (two zero vectors: 0,
/// exactly one: 1).
#[uniffi::export]
pub fn cosine_distance_f32(a: &[u8], b: &[u8]) -> Result<f32, Error> {
    kernels::cosine_distance_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
}

/// Squared Euclidean distance of two f32 vectors.
#[uniffi::export]
pub fn l2sq_f32(a: &[u8], b: &[u8]) -> Result<f32, Error> {
    kernels::l2sq_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
}

/// Scales an f32 vector to unit length; see [`Normalized`].
#[uniffi::export]
pub fn l2_normalize_f32(x: &[u8]) -> Result<Normalized, Error> {
    let mut values = f32s_from_le_bytes(x, "x")?.into_owned();
    let norm = kernels::l2_normalize_f32(&mut values);
    Ok(Normalized {
        vector: f32s_to_le_bytes(&values),
        norm,
    })
}

/// Scores one query against many rows: returns `n_rows` little-endian f32 distances, where
/// `rows` holds `n_rows * dims` floats and `dims` is the query's length.
///
/// Fails with `DimensionMismatch` if `rows` is not a whole number of query-sized rows.
#[uniffi::export]
pub fn scan_f32(metric: Metric, query: &[u8], rows: &[u8]) -> Result<Vec<u8>, Error> {
    let query = f32s_from_le_bytes(query, "query")?;
    let rows = f32s_from_le_bytes(rows, "rows")?;
    let Some(n_rows) = scan_row_count(query.len(), rows.len())? else {
        return Ok(Vec::new());
    };
    let mut out = vec![0.0f32; n_rows];
    kernels::scan_f32(metric, &query, &rows, &mut out)?;
    Ok(f32s_to_le_bytes(&out))
}

/// The shape rules of every bytes-level scan (the free `scan_f32` and `Engine::scan_f32`
/// answer alike): the number of rows of `rows_len` floats against a `dims`-float query, or
/// `None` for the empty scan (empty query and no rows).
pub(crate) fn scan_row_count(dims: usize, rows_len: usize) -> Result<Option<usize>, Error> {
    if dims == 0 {
        return if rows_len == 0 {
            Ok(None)
        } else {
            Err(Error::InvalidArgument(
                "an empty query cannot be scanned against non-empty rows".to_string(),
            ))
        };
    }
    if !rows_len.is_multiple_of(dims) {
        return Err(Error::DimensionMismatch {
            expected: rows_len.div_ceil(dims) * dims,
            actual: rows_len,
        });
    }
    Ok(Some(rows_len / dims))
}

/// The `k` smallest of `scores` (little-endian f32), ascending, ties broken by lower index;
/// NaN ranks after every number.
#[uniffi::export]
pub fn top_k(scores: &[u8], k: u32) -> Result<Vec<Hit>, Error> {
    let scores = f32s_from_le_bytes(scores, "scores")?;
    Ok(kernels::top_k(&scores, k as usize)
        .into_iter()
        .map(|h| Hit {
            index: h.index as u64,
            score: h.score,
        })
        .collect())
}

/// Inner product of two i8 vectors (their bytes, two's complement). Exact for up to 65536
/// elements, wrapping modulo 2^32 beyond.
#[uniffi::export]
pub fn dot_i8(a: &[u8], b: &[u8]) -> Result<i32, Error> {
    kernels::dot_i8(i8s_from_bytes(a), i8s_from_bytes(b))
}

/// Squared Euclidean distance of two i8 vectors. Exact for up to 65536 elements.
#[uniffi::export]
pub fn l2sq_i8(a: &[u8], b: &[u8]) -> Result<u32, Error> {
    kernels::l2sq_i8(i8s_from_bytes(a), i8s_from_bytes(b))
}

/// Number of differing bits of two packed binary vectors.
#[uniffi::export]
pub fn hamming_b1(a: &[u8], b: &[u8]) -> Result<u32, Error> {
    kernels::hamming_b1(a, b)
}

/// Jaccard distance `1 - |a & b| / |a | b|` of two packed binary vectors (0 if both are all
/// zeros).
#[uniffi::export]
pub fn jaccard_b1(a: &[u8], b: &[u8]) -> Result<f32, Error> {
    kernels::jaccard_b1(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(values: &[f32]) -> Vec<u8> {
        f32s_to_le_bytes(values)
    }

    #[test]
    fn scan_matches_core_and_checks_shapes() {
        let q = [1.0f32, 2.0];
        let rows = [1.0f32, 0.0, 0.0, 1.0, 2.0, 2.0];
        let got = scan_f32(Metric::L2sq, &le(&q), &le(&rows)).unwrap();
        let mut want = [0.0f32; 3];
        kernels::scan_f32(Metric::L2sq, &q, &rows, &mut want).unwrap();
        assert_eq!(got, le(&want));
        let err = scan_f32(Metric::Dot, &le(&q), &le(&rows[..5])).unwrap_err();
        assert_eq!(
            err,
            Error::DimensionMismatch {
                expected: 6,
                actual: 5
            }
        );
        assert!(scan_f32(Metric::Dot, &[], &le(&rows)).is_err());
        assert_eq!(scan_f32(Metric::Dot, &[], &[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn pairwise_kernels_check_lengths() {
        assert_eq!(dot_f32(&le(&[1.0, 2.0]), &le(&[3.0, 4.0])).unwrap(), 11.0);
        assert!(matches!(
            l2sq_f32(&le(&[1.0]), &le(&[1.0, 2.0])),
            Err(Error::DimensionMismatch { .. })
        ));
        assert!(matches!(
            cosine_distance_f32(&[0u8; 3], &[0u8; 3]),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(dot_i8(&[0xff, 2], &[3, 4]).unwrap(), 5);
        assert_eq!(hamming_b1(&[0b1010], &[0b0110]).unwrap(), 2);
    }

    #[test]
    fn top_k_and_normalize() {
        let hits = top_k(&le(&[3.0, 1.0, 2.0]), 2).unwrap();
        assert_eq!(
            hits,
            vec![
                Hit {
                    index: 1,
                    score: 1.0
                },
                Hit {
                    index: 2,
                    score: 2.0
                }
            ]
        );
        let n = l2_normalize_f32(&le(&[3.0, 4.0])).unwrap();
        assert_eq!(n.norm, 5.0);
        assert_eq!(n.vector, le(&[0.6, 0.8]));
    }

    #[test]
    fn isa_listing_includes_active() {
        assert!(available_isas().contains(&active_isa()));
        assert!(available_isas().contains(&Isa::Scalar));
    }
}
