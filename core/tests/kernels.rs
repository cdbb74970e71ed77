//! Every kernel on every table this machine runs, against an f64 (f32 kernels) or exact
//! integer (i8, binary) reference, over lengths 0..=67 and the sizes embeddings use, at
//! unaligned starting offsets.

extern crate alloc;

use ferrovec_core::kernels::{self, Bf16, Isa, Kernels, Metric, F16, MAX_B1_BYTES};
use ferrovec_core::Error;

#[path = "support/scan_cases.rs"]
mod scan_cases;

/// Lengths 0..=67 (every tail of every vector width) plus the sizes that matter in practice.
fn lengths() -> impl Iterator<Item = usize> {
    (0..=67).chain([127, 128, 129, 383, 384, 385, 1536, 4097])
}

/// Starting offsets (in elements) into an over-allocated buffer, so loads are unaligned.
const OFFSETS: [usize; 4] = [0, 1, 3, 7];

/// The tolerance the module docs promise for f32 sums, relative to sum|terms|.
const REL_TOL: f64 = 1e-5;
/// Absolute tolerance for cosine distance.
const COS_TOL: f64 = 2e-5;

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.unit()).collect()
    }
    fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next_u64() as i8).collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn all_variants() -> Vec<&'static Kernels> {
    let v: Vec<_> = Kernels::variants().collect();
    let names: Vec<_> = v.iter().map(|k| k.variant()).collect();
    eprintln!("kernel tables under test: {names:?}");
    v
}

/// Pairs of equal-length slices starting at each offset of larger buffers.
fn offset_pairs<T: Clone>(a: &[T], b: &[T], n: usize, fill: T) -> Vec<(usize, Vec<T>, Vec<T>)> {
    OFFSETS
        .iter()
        .map(|&off| {
            let mut ba = vec![fill.clone(); off];
            ba.extend_from_slice(&a[..n]);
            let mut bb = vec![fill.clone(); off];
            bb.extend_from_slice(&b[..n]);
            (off, ba, bb)
        })
        .collect()
}

fn dot_ref(a: &[f32], b: &[f32]) -> (f64, f64) {
    let exact = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let magnitude = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 * y as f64).abs())
        .sum();
    (exact, magnitude)
}

fn l2sq_ref(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum()
}

fn cosine_ref(a: &[f32], b: &[f32]) -> f64 {
    let (ab, _) = dot_ref(a, b);
    let (aa, _) = dot_ref(a, a);
    let (bb, _) = dot_ref(b, b);
    match (aa == 0.0, bb == 0.0) {
        (true, true) => 0.0,
        (true, false) | (false, true) => 1.0,
        _ => (1.0 - ab / (aa * bb).sqrt()).clamp(0.0, 2.0),
    }
}

fn assert_close(what: &str, got: f32, want: f64, tol: f64) {
    let err = (got as f64 - want).abs();
    assert!(
        err <= tol,
        "{what}: got {got}, want {want}, |err| {err:e} > tol {tol:e}"
    );
}

#[test]
fn f32_kernels_match_f64_reference() {
    let mut rng = Rng(1);
    for k in all_variants() {
        for n in lengths() {
            let (a, b) = (rng.f32s(n), rng.f32s(n));
            for (off, ba, bb) in offset_pairs(&a, &b, n, 0.0) {
                let (x, y) = (&ba[off..], &bb[off..]);
                let ctx = |op: &str| format!("{} {op} n={n} off={off}", k.variant());

                let (dot, mag) = dot_ref(x, y);
                let got = k.dot_f32(x, y).unwrap();
                assert_close(&ctx("dot"), got, dot, REL_TOL * mag + 1e-30);

                let l2 = l2sq_ref(x, y);
                let got = k.l2sq_f32(x, y).unwrap();
                assert_close(&ctx("l2sq"), got, l2, REL_TOL * l2 + 1e-30);

                let got = k.cosine_distance_f32(x, y).unwrap();
                assert_close(&ctx("cosine"), got, cosine_ref(x, y), COS_TOL);
                assert!((0.0..=2.0).contains(&got), "{}: {got}", ctx("cosine range"));
            }
        }
    }
}

#[test]
fn f32_normalize_matches_f64_reference() {
    let mut rng = Rng(2);
    for k in all_variants() {
        for n in lengths() {
            let a: Vec<f32> = rng.f32s(n).iter().map(|v| v * 3.0).collect();
            for (off, mut buf, _) in offset_pairs(&a, &a, n, 0.0) {
                let x = &mut buf[off..];
                let norm64 = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                let expect: Vec<f64> = x.iter().map(|&v| v as f64 / norm64).collect();
                let norm = k.l2_normalize_f32(x);
                let ctx = format!("{} normalize n={n} off={off}", k.variant());
                assert_close(&ctx, norm, norm64, 1e-5 * norm64);
                if n == 0 {
                    continue;
                }
                for (i, (&got, &want)) in x.iter().zip(&expect).enumerate() {
                    assert_close(&format!("{ctx} [{i}]"), got, want, 1e-6);
                }
                let len: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                assert_close(&format!("{ctx} |x|"), len as f32, 1.0, 1e-5);
            }
        }
    }
}

#[test]
fn normalize_leaves_degenerate_vectors_unchanged() {
    for k in all_variants() {
        let mut zero = vec![0.0f32; 37];
        assert_eq!(k.l2_normalize_f32(&mut zero), 0.0);
        assert!(zero.iter().all(|&v| v == 0.0));

        let mut with_nan = vec![1.0f32; 37];
        with_nan[20] = f32::NAN;
        assert!(k.l2_normalize_f32(&mut with_nan).is_nan());
        assert_eq!(with_nan[0], 1.0, "{}", k.variant());

        let mut with_inf = vec![1.0f32; 37];
        with_inf[36] = f32::INFINITY;
        assert_eq!(k.l2_normalize_f32(&mut with_inf), f32::INFINITY);
        assert_eq!(with_inf[0], 1.0, "{}", k.variant());

        let mut empty: [f32; 0] = [];
        assert_eq!(k.l2_normalize_f32(&mut empty), 0.0);
    }
}

#[test]
fn scan_matches_pairwise_reference() {
    let mut rng = Rng(3);
    for k in all_variants() {
        // Row counts around the 4-row blocks of the AVX kernels: tail only, one block, both.
        for (dims, n_rows) in lengths()
            .filter(|&d| d <= 1536)
            .flat_map(|d| [(d, 1), (d, 4), (d, 9)])
        {
            let query = rng.f32s(dims);
            for off in [0, 1, 3] {
                let mut buf = vec![0.0f32; off];
                buf.extend(rng.f32s(n_rows * dims));
                let rows = &buf[off..];
                for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
                    let mut out = vec![f32::NAN; n_rows];
                    k.scan_f32(metric, &query, rows, &mut out).unwrap();
                    for (r, &got) in out.iter().enumerate() {
                        let row = &rows[r * dims..(r + 1) * dims];
                        let ctx =
                            format!("{} scan {metric:?} d={dims} off={off} row={r}", k.variant());
                        match metric {
                            Metric::Dot => {
                                let (dot, mag) = dot_ref(&query, row);
                                assert_close(&ctx, got, -dot, REL_TOL * mag + 1e-30)
                            }
                            Metric::L2sq => {
                                let l2 = l2sq_ref(&query, row);
                                assert_close(&ctx, got, l2, REL_TOL * l2 + 1e-30)
                            }
                            Metric::Cosine => {
                                assert_close(&ctx, got, cosine_ref(&query, row), COS_TOL)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One table, one pair, one distance: the single-vector kernels and the scan (at every row
/// position of its blocks) return the same bits, as the accuracy section of
/// `ferrovec_core::kernels` promises. Dimensions cover every tail of every vector width and
/// of the 4-accumulator blocks; 1..=9 rows cover every block remainder.
#[test]
fn every_path_of_one_table_gives_the_same_bits() {
    let mut rng = Rng(11);
    for k in all_variants() {
        for dims in lengths().filter(|&d| d <= 1536) {
            let query = rng.f32s(dims);
            let rows = rng.f32s(9 * dims);
            let aa = k.dot_f32(&query, &query).unwrap();
            let parts_self = k.cosine_parts_f32(&query, &query);
            assert_eq!(
                parts_self.map(f32::to_bits),
                [aa.to_bits(); 3],
                "{} d={dims}: cosine sums vs dot of the query with itself",
                k.variant()
            );
            for n_rows in 1..=9 {
                let rows = &rows[..n_rows * dims];
                for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
                    let mut out = vec![f32::NAN; n_rows];
                    k.scan_f32(metric, &query, rows, &mut out).unwrap();
                    for (r, &got) in out.iter().enumerate() {
                        let row = &rows[r * dims..(r + 1) * dims];
                        let single = match metric {
                            Metric::Dot => -k.dot_f32(&query, row).unwrap(),
                            Metric::L2sq => k.l2sq_f32(&query, row).unwrap(),
                            Metric::Cosine => k.cosine_distance_f32(&query, row).unwrap(),
                        };
                        assert_eq!(
                            got.to_bits(),
                            single.to_bits(),
                            "{} {metric:?} d={dims} rows={n_rows} row={r}: scan {got} vs \
                             single-vector kernel {single}",
                            k.variant()
                        );
                        if metric == Metric::Cosine {
                            let [ab, _, bb] = k.cosine_parts_f32(&query, row);
                            assert_eq!(ab.to_bits(), k.dot_f32(&query, row).unwrap().to_bits());
                            assert_eq!(bb.to_bits(), k.dot_f32(row, row).unwrap().to_bits());
                        }
                    }
                }
            }
        }
    }
}

/// The scan's checks that the wasm32 harness runs under both engine hints (natively the
/// hint changes nothing, and the bits must still match).
#[test]
fn scan_cases_under_both_engine_hints() {
    Kernels::variants().for_each(scan_cases::all);
}

#[test]
fn scan_rejects_bad_shapes_without_writing() {
    for k in all_variants() {
        let query = [1.0f32; 4];
        let rows = [1.0f32; 11];
        let mut out = [7.0f32; 3];
        let err = k
            .scan_f32(Metric::Dot, &query, &rows, &mut out)
            .unwrap_err();
        assert_eq!(
            err,
            Error::DimensionMismatch {
                expected: 12,
                actual: 11
            }
        );
        assert_eq!(out, [7.0; 3], "out must be untouched after an error");

        // Zero-dimensional vectors are valid: every distance of two empty vectors.
        let mut out = [7.0f32; 2];
        k.scan_f32(Metric::L2sq, &[], &[], &mut out).unwrap();
        assert_eq!(out, [0.0; 2]);
        k.scan_f32(Metric::Cosine, &[], &[], &mut out).unwrap();
        assert_eq!(out, [0.0; 2]);
        k.scan_f32(Metric::Dot, &[], &[], &mut out).unwrap();
        assert_eq!(out, [0.0; 2]);

        // No rows: nothing to do.
        k.scan_f32(Metric::Cosine, &query, &[], &mut []).unwrap();
    }
}

#[test]
fn f32_special_values() {
    for k in all_variants() {
        let v = k.variant();
        // Empty inputs.
        assert_eq!(k.dot_f32(&[], &[]).unwrap(), 0.0, "{v}");
        assert_eq!(k.l2sq_f32(&[], &[]).unwrap(), 0.0, "{v}");
        assert_eq!(k.cosine_distance_f32(&[], &[]).unwrap(), 0.0, "{v}");

        for n in [1, 7, 16, 33, 64, 100, 385] {
            let ones = vec![1.0f32; n];
            let zeros = vec![0.0f32; n];
            // Zero vectors under cosine.
            assert_eq!(
                k.cosine_distance_f32(&zeros, &zeros).unwrap(),
                0.0,
                "{v} n={n}"
            );
            assert_eq!(
                k.cosine_distance_f32(&zeros, &ones).unwrap(),
                1.0,
                "{v} n={n}"
            );
            assert_eq!(
                k.cosine_distance_f32(&ones, &zeros).unwrap(),
                1.0,
                "{v} n={n}"
            );
            // Identical and opposite vectors.
            assert_close(
                &format!("{v} cos same"),
                k.cosine_distance_f32(&ones, &ones).unwrap(),
                0.0,
                1e-6,
            );
            let neg: Vec<f32> = ones.iter().map(|x| -x).collect();
            assert_close(
                &format!("{v} cos opposite"),
                k.cosine_distance_f32(&ones, &neg).unwrap(),
                2.0,
                1e-6,
            );

            // A NaN anywhere (first, middle, last: main loop and tail) propagates.
            for pos in [0, n / 2, n - 1] {
                let mut nan = ones.clone();
                nan[pos] = f32::NAN;
                assert!(
                    k.dot_f32(&nan, &ones).unwrap().is_nan(),
                    "{v} dot n={n} pos={pos}"
                );
                assert!(
                    k.dot_f32(&ones, &nan).unwrap().is_nan(),
                    "{v} dot n={n} pos={pos}"
                );
                assert!(
                    k.l2sq_f32(&nan, &ones).unwrap().is_nan(),
                    "{v} l2 n={n} pos={pos}"
                );
                assert!(
                    k.cosine_distance_f32(&nan, &ones).unwrap().is_nan(),
                    "{v} cos n={n} pos={pos}"
                );
                let mut out = [0.0f32; 2];
                let rows: Vec<f32> = ones.iter().chain(&nan).copied().collect();
                for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
                    k.scan_f32(metric, &ones, &rows, &mut out).unwrap();
                    assert!(
                        !out[0].is_nan() && out[1].is_nan(),
                        "{v} scan {metric:?} n={n} pos={pos}: {out:?}"
                    );
                }

                // Infinity follows IEEE: inf * 1 = inf, inf - 1 = inf, inf * 0 = NaN.
                let mut inf = ones.clone();
                inf[pos] = f32::INFINITY;
                assert_eq!(k.dot_f32(&inf, &ones).unwrap(), f32::INFINITY, "{v} n={n}");
                assert_eq!(k.l2sq_f32(&inf, &ones).unwrap(), f32::INFINITY, "{v} n={n}");
                assert!(k.dot_f32(&inf, &zeros).unwrap().is_nan(), "{v} n={n}");
                assert!(
                    k.cosine_distance_f32(&inf, &ones).unwrap().is_nan(),
                    "{v} n={n}"
                );
            }
        }
    }
}

/// The half-precision kernels of one row type, for tests that run both.
struct HalfOps<T> {
    name: &'static str,
    from_f32: fn(f32) -> T,
    to_f32: fn(T) -> f32,
    dot: fn(&Kernels, &[f32], &[T]) -> ferrovec_core::Result<f32>,
    l2sq: fn(&Kernels, &[f32], &[T]) -> ferrovec_core::Result<f32>,
    cosine: fn(&Kernels, &[f32], &[T]) -> ferrovec_core::Result<f32>,
}

const F16_OPS: HalfOps<F16> = HalfOps {
    name: "f16",
    from_f32: F16::from_f32,
    to_f32: F16::to_f32,
    dot: Kernels::dot_f16,
    l2sq: Kernels::l2sq_f16,
    cosine: Kernels::cosine_distance_f16,
};

const BF16_OPS: HalfOps<Bf16> = HalfOps {
    name: "bf16",
    from_f32: Bf16::from_f32,
    to_f32: Bf16::to_f32,
    dot: Kernels::dot_bf16,
    l2sq: Kernels::l2sq_bf16,
    cosine: Kernels::cosine_distance_bf16,
};

/// On every table, a half-precision kernel returns the bits of the same table's f32 kernel
/// on the row's converted values (the module docs' promise), and both are within the f32
/// bound of an f64 computation on the converted values.
fn check_half_kernels<T: Copy + Default>(ops: &HalfOps<T>) {
    let mut rng = Rng(11);
    for k in all_variants() {
        for n in lengths() {
            let a = rng.f32s(n);
            // Scaled so f16 keeps subnormal and large elements in play too.
            let b: Vec<T> = rng
                .f32s(n)
                .iter()
                .enumerate()
                .map(|(i, &x)| (ops.from_f32)(x * [1.0, 1e-6, 300.0][i % 3]))
                .collect();
            for off in OFFSETS {
                let mut ba = vec![0.0f32; off];
                ba.extend_from_slice(&a);
                let mut bb = vec![T::default(); off];
                bb.extend_from_slice(&b);
                let (x, y) = (&ba[off..], &bb[off..]);
                let yf: Vec<f32> = y.iter().map(|&v| (ops.to_f32)(v)).collect();
                let ctx = |op: &str| format!("{} {}_{} n={n} off={off}", k.variant(), op, ops.name);

                let got = (ops.dot)(k, x, y).unwrap();
                assert_eq!(
                    got.to_bits(),
                    k.dot_f32(x, &yf).unwrap().to_bits(),
                    "{}",
                    ctx("dot")
                );
                let (dot, mag) = dot_ref(x, &yf);
                assert_close(&ctx("dot"), got, dot, REL_TOL * mag + 1e-30);

                let got = (ops.l2sq)(k, x, y).unwrap();
                assert_eq!(
                    got.to_bits(),
                    k.l2sq_f32(x, &yf).unwrap().to_bits(),
                    "{}",
                    ctx("l2sq")
                );
                let l2 = l2sq_ref(x, &yf);
                assert_close(&ctx("l2sq"), got, l2, REL_TOL * l2 + 1e-30);

                let got = (ops.cosine)(k, x, y).unwrap();
                let want = k.cosine_distance_f32(x, &yf).unwrap();
                assert_eq!(got.to_bits(), want.to_bits(), "{}", ctx("cosine"));
                assert_close(&ctx("cosine"), got, cosine_ref(x, &yf), COS_TOL);
            }
        }
    }
}

#[test]
fn f16_kernels_are_the_f32_kernels_on_converted_rows() {
    check_half_kernels(&F16_OPS);
}

#[test]
fn bf16_kernels_are_the_f32_kernels_on_converted_rows() {
    check_half_kernels(&BF16_OPS);
}

/// NaN and infinity in a half-precision row (main loop and tail) follow the f32 rules.
fn check_half_special_values<T: Copy>(ops: &HalfOps<T>, nan: T, inf: T) {
    for k in all_variants() {
        let v = format!("{} {}", k.variant(), ops.name);
        assert_eq!((ops.dot)(k, &[], &[]).unwrap(), 0.0, "{v}");
        assert_eq!((ops.l2sq)(k, &[], &[]).unwrap(), 0.0, "{v}");
        assert_eq!((ops.cosine)(k, &[], &[]).unwrap(), 0.0, "{v}");
        for n in [1, 7, 16, 33, 64, 100, 385] {
            let ones = vec![1.0f32; n];
            let half_ones = vec![(ops.from_f32)(1.0); n];
            let half_zeros = vec![(ops.from_f32)(0.0); n];
            assert_eq!(
                (ops.cosine)(k, &ones, &half_zeros).unwrap(),
                1.0,
                "{v} n={n}"
            );
            assert_eq!(
                (ops.cosine)(k, &vec![0.0; n], &half_zeros).unwrap(),
                0.0,
                "{v}"
            );
            assert_eq!(
                (ops.dot)(k, &ones, &half_ones).unwrap(),
                n as f32,
                "{v} n={n}"
            );
            for pos in [0, n / 2, n - 1] {
                let mut row = half_ones.clone();
                row[pos] = nan;
                assert!(
                    (ops.dot)(k, &ones, &row).unwrap().is_nan(),
                    "{v} n={n} pos={pos}"
                );
                assert!(
                    (ops.l2sq)(k, &ones, &row).unwrap().is_nan(),
                    "{v} n={n} pos={pos}"
                );
                assert!(
                    (ops.cosine)(k, &ones, &row).unwrap().is_nan(),
                    "{v} n={n} pos={pos}"
                );
                row[pos] = inf;
                assert_eq!(
                    (ops.dot)(k, &ones, &row).unwrap(),
                    (ops.to_f32)(inf),
                    "{v} n={n}"
                );
                assert_eq!(
                    (ops.l2sq)(k, &ones, &row).unwrap(),
                    f32::INFINITY,
                    "{v} n={n}"
                );
                assert!((ops.cosine)(k, &ones, &row).unwrap().is_nan(), "{v} n={n}");
                let mut zeros = vec![0.0f32; n];
                assert!((ops.dot)(k, &zeros, &row).unwrap().is_nan(), "{v} n={n}");
                // A NaN in the query propagates as well.
                zeros[pos] = f32::NAN;
                assert!(
                    (ops.dot)(k, &zeros, &half_ones).unwrap().is_nan(),
                    "{v} n={n}"
                );
            }
        }
        let e = Error::DimensionMismatch {
            expected: 3,
            actual: 2,
        };
        let two = [(ops.from_f32)(1.0); 2];
        assert_eq!((ops.dot)(k, &[1.0; 3], &two).unwrap_err(), e, "{v}");
        assert_eq!((ops.l2sq)(k, &[1.0; 3], &two).unwrap_err(), e, "{v}");
        assert_eq!((ops.cosine)(k, &[1.0; 3], &two).unwrap_err(), e, "{v}");
    }
}

#[test]
fn f16_special_values() {
    check_half_special_values(&F16_OPS, F16(0x7e00), F16(0x7c00));
    // A signalling NaN too (the hardware conversions quiet it).
    check_half_special_values(&F16_OPS, F16(0xfc01), F16(0xfc00));
}

#[test]
fn bf16_special_values() {
    check_half_special_values(&BF16_OPS, Bf16(0x7fc0), Bf16(0x7f80));
    check_half_special_values(&BF16_OPS, Bf16(0xff81), Bf16(0xff80));
}

#[test]
fn half_free_functions_use_the_active_table() {
    let k = Kernels::active();
    let a = [0.5f32, -1.0, 2.0];
    let h = [F16::from_f32(1.5), F16::from_f32(0.25), F16::from_f32(-3.0)];
    let b = [
        Bf16::from_f32(1.5),
        Bf16::from_f32(0.25),
        Bf16::from_f32(-3.0),
    ];
    assert_eq!(
        kernels::dot_f16(&a, &h).unwrap(),
        k.dot_f16(&a, &h).unwrap()
    );
    assert_eq!(kernels::dot_f16(&a, &h).unwrap(), 0.75 - 0.25 - 6.0);
    assert_eq!(kernels::l2sq_f16(&a, &h).unwrap(), 1.0 + 1.5625 + 25.0);
    assert_eq!(
        kernels::cosine_distance_f16(&a, &h).unwrap(),
        k.cosine_distance_f16(&a, &h).unwrap()
    );
    assert_eq!(kernels::dot_bf16(&a, &b).unwrap(), 0.75 - 0.25 - 6.0);
    assert_eq!(kernels::l2sq_bf16(&a, &b).unwrap(), 1.0 + 1.5625 + 25.0);
    assert_eq!(
        kernels::cosine_distance_bf16(&a, &b).unwrap(),
        k.cosine_distance_bf16(&a, &b).unwrap()
    );
}

#[test]
fn mismatched_lengths_are_errors() {
    for k in all_variants() {
        let e = Error::DimensionMismatch {
            expected: 3,
            actual: 2,
        };
        assert_eq!(k.dot_f32(&[1.0; 3], &[1.0; 2]).unwrap_err(), e);
        assert_eq!(k.l2sq_f32(&[1.0; 3], &[1.0; 2]).unwrap_err(), e);
        assert_eq!(k.cosine_distance_f32(&[1.0; 3], &[1.0; 2]).unwrap_err(), e);
        assert_eq!(k.dot_i8(&[1; 3], &[1; 2]).unwrap_err(), e);
        assert_eq!(k.l2sq_i8(&[1; 3], &[1; 2]).unwrap_err(), e);
        assert_eq!(k.hamming_b1(&[1; 3], &[1; 2]).unwrap_err(), e);
        assert_eq!(k.jaccard_b1(&[1; 3], &[1; 2]).unwrap_err(), e);
    }
}

fn dot_i8_ref(a: &[i8], b: &[i8]) -> i64 {
    a.iter().zip(b).map(|(&x, &y)| x as i64 * y as i64).sum()
}

fn l2sq_i8_ref(a: &[i8], b: &[i8]) -> i64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as i64 - y as i64).pow(2))
        .sum()
}

#[test]
fn i8_kernels_are_exact() {
    let mut rng = Rng(4);
    for k in all_variants() {
        for n in lengths() {
            let (a, b) = (rng.i8s(n), rng.i8s(n));
            for (off, ba, bb) in offset_pairs(&a, &b, n, 0i8) {
                let (x, y) = (&ba[off..], &bb[off..]);
                let ctx = format!("{} n={n} off={off}", k.variant());
                assert_eq!(
                    k.dot_i8(x, y).unwrap() as i64,
                    dot_i8_ref(x, y),
                    "dot {ctx}"
                );
                assert_eq!(
                    k.l2sq_i8(x, y).unwrap() as i64,
                    l2sq_i8_ref(x, y),
                    "l2sq {ctx}"
                );
            }
        }
    }
}

#[test]
fn i8_extremes_are_exact_up_to_65536() {
    let n = 1 << 16;
    for k in all_variants() {
        let v = k.variant();
        let min = vec![i8::MIN; n];
        let max = vec![i8::MAX; n];
        // 65536 * 128 * 128 = 2^30: the largest dot.
        assert_eq!(k.dot_i8(&min, &min).unwrap(), 1 << 30, "{v}");
        assert_eq!(
            k.dot_i8(&min, &max).unwrap() as i64,
            -(n as i64) * 128 * 127,
            "{v}"
        );
        // 65536 * 255^2 = 4_261_478_400: the largest squared L2, still a u32.
        assert_eq!(
            k.l2sq_i8(&min, &max).unwrap() as u64,
            n as u64 * 255 * 255,
            "{v}"
        );
        assert_eq!(
            k.l2sq_i8(&max, &min).unwrap() as u64,
            n as u64 * 255 * 255,
            "{v}"
        );
    }
}

#[test]
fn i8_longer_inputs_wrap_modulo_2_pow_32_on_every_isa() {
    let mut rng = Rng(5);
    let n = 3 * (1 << 16) + 77;
    // Extreme values make the true sums leave the 32-bit range.
    let min = vec![i8::MIN; n];
    let max = vec![i8::MAX; n];
    let (ra, rb) = (rng.i8s(n), rng.i8s(n));
    for k in all_variants() {
        for (a, b) in [(&min, &min), (&min, &max), (&ra, &rb)] {
            let want_dot = dot_i8_ref(a, b) as i32; // `as` truncates: modulo 2^32
            let want_l2 = l2sq_i8_ref(a, b) as u32;
            assert_eq!(k.dot_i8(a, b).unwrap(), want_dot, "{}", k.variant());
            assert_eq!(k.l2sq_i8(a, b).unwrap(), want_l2, "{}", k.variant());
        }
        assert_ne!(
            dot_i8_ref(&min, &min),
            k.dot_i8(&min, &min).unwrap() as i64,
            "the test must overflow"
        );
    }
}

fn popcount(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.map(|b| b.count_ones() as u64).sum()
}

#[test]
fn binary_kernels_are_exact() {
    let mut rng = Rng(6);
    for k in all_variants() {
        for n in lengths() {
            let (a, mut b) = (rng.bytes(n), rng.bytes(n));
            // Make some bytes equal so intersections and unions differ meaningfully.
            for i in (0..n).step_by(3) {
                b[i] = a[i];
            }
            for (off, ba, bb) in offset_pairs(&a, &b, n, 0xffu8) {
                let (x, y) = (&ba[off..], &bb[off..]);
                let ctx = format!("{} n={n} off={off}", k.variant());
                let hamming = popcount(x.iter().zip(y).map(|(p, q)| p ^ q));
                assert_eq!(k.hamming_b1(x, y).unwrap() as u64, hamming, "hamming {ctx}");
                let inter = popcount(x.iter().zip(y).map(|(p, q)| p & q));
                let union = popcount(x.iter().zip(y).map(|(p, q)| p | q));
                let want = if union == 0 {
                    0.0
                } else {
                    1.0 - inter as f64 / union as f64
                };
                assert_eq!(k.jaccard_b1(x, y).unwrap(), want as f32, "jaccard {ctx}");
            }
        }
    }
}

#[test]
fn binary_special_cases() {
    for k in all_variants() {
        let v = k.variant();
        assert_eq!(k.hamming_b1(&[], &[]).unwrap(), 0, "{v}");
        assert_eq!(k.jaccard_b1(&[], &[]).unwrap(), 0.0, "{v}");
        let zeros = [0u8; 70];
        let ones = [0xffu8; 70];
        assert_eq!(k.jaccard_b1(&zeros, &zeros).unwrap(), 0.0, "{v}");
        assert_eq!(k.jaccard_b1(&zeros, &ones).unwrap(), 1.0, "{v}");
        assert_eq!(k.jaccard_b1(&ones, &ones).unwrap(), 0.0, "{v}");
        assert_eq!(k.hamming_b1(&zeros, &ones).unwrap(), 560, "{v}");
    }
    assert!(MAX_B1_BYTES as u64 * 8 <= u32::MAX as u64);
}

#[test]
fn top_k_selects_smallest_with_index_tiebreak() {
    let scores = [3.0, 1.0, 2.0, 1.0, f32::NAN, 0.5, 2.0, -0.0, 0.0];
    let hits = kernels::top_k(&scores, 4);
    let got: Vec<(usize, f32)> = hits.iter().map(|h| (h.index, h.score)).collect();
    assert_eq!(got, vec![(7, -0.0), (8, 0.0), (5, 0.5), (1, 1.0)]);

    // Ties at the cut keep the lower index.
    let hits = kernels::top_k(&[1.0, 1.0, 1.0, 1.0], 2);
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0, 1]);

    // k = 0 and k > n.
    assert!(kernels::top_k(&scores, 0).is_empty());
    let all = kernels::top_k(&scores, 100);
    assert_eq!(all.len(), scores.len());
    assert_eq!(all.last().unwrap().index, 4, "NaN ranks last");
    assert!(kernels::top_k(&[], 3).is_empty());
}

#[test]
fn top_k_matches_full_sort() {
    let mut rng = Rng(7);
    for n in [1, 2, 10, 100, 1000] {
        // Few distinct values, so ties are common.
        let scores: Vec<f32> = (0..n).map(|_| (rng.next_u64() % 17) as f32).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]).then(i.cmp(&j)));
        for k in [1, 3, 10, n] {
            let got: Vec<usize> = kernels::top_k(&scores, k).iter().map(|h| h.index).collect();
            assert_eq!(got, order[..k.min(n)], "n={n} k={k}");
        }
    }
}

#[test]
fn dispatch_offers_every_isa_the_cpu_has() {
    let variants: Vec<&str> = Kernels::variants().map(|k| k.variant()).collect();
    assert_eq!(variants[0], "scalar");
    assert!(Isa::Scalar.is_available());
    let active = kernels::active_isa();
    assert!(active.is_available());

    #[cfg(target_arch = "x86_64")]
    {
        use std::is_x86_feature_detected as has;
        let avx2 = has!("avx2") && has!("fma");
        let avx512 = has!("avx512f") && has!("avx512bw") && has!("avx512vl");
        assert_eq!(Isa::Avx2.is_available(), avx2);
        assert_eq!(Isa::Avx512.is_available(), avx512);
        if !avx512 {
            eprintln!("WARNING: this CPU has no AVX-512: the AVX-512 kernels were NOT tested");
        }
        if avx512 && has!("avx512vnni") && has!("avx512vpopcntdq") {
            assert_eq!(
                Kernels::for_isa(Isa::Avx512).unwrap().variant(),
                "avx512+vnni+vpopcntdq"
            );
            assert_eq!(variants.len(), 6, "{variants:?}");
        }
        assert!(!Isa::Neon.is_available());
        // The FERROVEC_ISA override aside, the best level wins.
        if let Ok(forced) = std::env::var("FERROVEC_ISA") {
            // `make test` runs the suites once per level this CPU has: a level that silently
            // fell back to the best one would hide its own behaviour.
            assert_eq!(
                active.name(),
                forced,
                "FERROVEC_ISA={forced} but the active table is {active}"
            );
        } else {
            let best = if avx512 {
                Isa::Avx512
            } else if avx2 {
                Isa::Avx2
            } else {
                Isa::Scalar
            };
            assert_eq!(active, best);
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        assert!(Isa::Neon.is_available());
        assert_eq!(kernels::active_isa(), Isa::Neon);
    }
}

#[test]
fn unavailable_isa_is_an_error() {
    let missing = Isa::ALL
        .into_iter()
        .find(|isa| !isa.is_available())
        .expect("some ISA is foreign");
    let err = Kernels::for_isa(missing).unwrap_err();
    assert_eq!(err, Error::UnsupportedIsa(missing.name().to_string()));
    assert_eq!(err.code(), -5);
    let before = kernels::active_isa();
    assert!(kernels::force(missing).is_err());
    assert_eq!(
        kernels::active_isa(),
        before,
        "a failed force changes nothing"
    );
}

#[test]
fn isa_names_round_trip() {
    for isa in Isa::ALL {
        assert_eq!(Isa::from_name(isa.name()), Some(isa));
        assert_eq!(isa.c_name().to_str().unwrap(), isa.name());
        assert_eq!(Isa::from_name(&isa.name().to_uppercase()), Some(isa));
    }
    assert_eq!(Isa::from_name("sse9"), None);
    assert_eq!(Metric::from_code(3).unwrap_err(), Error::UnknownMetric(3));
    for m in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
        assert_eq!(Metric::from_code(m.code()).unwrap(), m);
    }
}
