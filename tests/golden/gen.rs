//! Generates `tests/golden/kernels.json` (schema: `tests/golden/README.md`) on stdout.
//!
//! `cargo run -q -p ferrovec-wasm --example golden > tests/golden/kernels.json`
//!
//! Deterministic: fixed seeds, no clock, no environment. Expected values are computed in f64
//! from the exact f32 inputs, independently of the kernels; then every case is checked
//! against every kernel table this machine runs (scalar, AVX2, AVX-512 variants, ...), and
//! the program fails (exit 1, nothing trustworthy on stdout) if any disagrees, so a wrong
//! expectation or tolerance cannot be committed.

use std::fmt::Write as _;
use std::process::ExitCode;

use ferrovec_core::kernels::{Kernels, Metric};

/// splitmix64: tiny, good enough, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1) with 24 random bits: exactly representable as f32.
    fn unit(&mut self) -> f32 {
        let k = (self.next_u64() >> 40) as i64; // 0 .. 2^24
        ((k - (1 << 23)) as f64 / (1u64 << 23) as f64) as f32
    }

    /// Like `unit`, scaled by 2^e with e uniform in -8..=8 (exact: a power-of-two scale).
    fn wide(&mut self) -> f32 {
        let e = (self.next_u64() % 17) as i32 - 8;
        self.unit() * (2.0f32).powi(e)
    }

    fn vec_f32(&mut self, n: usize, wide: bool) -> Vec<f32> {
        (0..n)
            .map(|_| if wide { self.wide() } else { self.unit() })
            .collect()
    }

    fn vec_i8(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next_u64() as u8 as i8).collect()
    }

    fn vec_u8(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next_u64() % from.len() as u64) as usize]
    }
}

/// A JSON value for an f64 that is exactly an f32 widened, or an expected f64.
fn num(x: f64) -> String {
    if x.is_nan() {
        "\"NaN\"".into()
    } else if x == f64::INFINITY {
        "\"Infinity\"".into()
    } else if x == f64::NEG_INFINITY {
        "\"-Infinity\"".into()
    } else {
        // `{:?}` is the shortest decimal that round-trips the f64 (always with a `.` or an
        // exponent, both valid JSON).
        format!("{x:?}")
    }
}

fn f32s(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|&x| num(x as f64)).collect();
    format!("[{}]", items.join(","))
}

fn ints<T: ToString>(v: &[T]) -> String {
    let items: Vec<String> = v.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(","))
}

fn nums(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|&x| num(x)).collect();
    format!("[{}]", items.join(","))
}

// ------------------------------------------------------------------ f64 references

fn ref_dot(a: &[f32], b: &[f32]) -> (f64, f64) {
    // fold from +0.0: `sum()` starts at -0.0, and the core documents an empty dot as 0.
    let value = a
        .iter()
        .zip(b)
        .fold(0.0, |s, (&x, &y)| s + x as f64 * y as f64);
    let scale = a
        .iter()
        .zip(b)
        .fold(0.0, |s, (&x, &y)| s + (x as f64 * y as f64).abs());
    (value, tol_rel(scale))
}

fn ref_l2sq(a: &[f32], b: &[f32]) -> (f64, f64) {
    let value = a
        .iter()
        .zip(b)
        .fold(0.0, |s, (&x, &y)| s + (x as f64 - y as f64).powi(2));
    (value, tol_rel(value))
}

/// The accuracy bound of core/src/kernels/mod.rs for dot and l2sq.
fn tol_rel(scale: f64) -> f64 {
    if scale.is_finite() {
        1e-5 * scale + 1e-30
    } else {
        f64::NAN // no tolerance: the expected value is not finite
    }
}

const COSINE_TOL: f64 = 2e-5;
const JACCARD_TOL: f64 = 1.0 / (1u64 << 24) as f64;

fn ref_cosine(a: &[f32], b: &[f32]) -> f64 {
    let ab: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let aa: f64 = a.iter().map(|&x| (x as f64).powi(2)).sum();
    let bb: f64 = b.iter().map(|&x| (x as f64).powi(2)).sum();
    if ab.is_nan() || aa.is_nan() || bb.is_nan() {
        return f64::NAN;
    }
    if aa == 0.0 && bb == 0.0 {
        return 0.0;
    }
    if aa == 0.0 || bb == 0.0 {
        return 1.0;
    }
    // NaN (inf / inf) passes through `clamp`.
    (1.0 - ab / (aa * bb).sqrt()).clamp(0.0, 2.0)
}

fn ref_jaccard(a: &[u8], b: &[u8]) -> f64 {
    let inter: u32 = a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum();
    let union: u32 = a.iter().zip(b).map(|(x, y)| (x | y).count_ones()).sum();
    if union == 0 {
        0.0
    } else {
        1.0 - inter as f64 / union as f64
    }
}

fn ref_dot_i8(a: &[i8], b: &[i8]) -> i64 {
    a.iter().zip(b).map(|(&x, &y)| x as i64 * y as i64).sum()
}

fn ref_l2sq_i8(a: &[i8], b: &[i8]) -> i64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as i64 - y as i64).pow(2))
        .sum()
}

fn ref_hamming(a: &[u8], b: &[u8]) -> i64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x ^ y).count_ones() as i64)
        .sum()
}

// ------------------------------------------------------------------ cases

/// The expected result of a case, with what a kernel result must satisfy.
#[derive(Clone)]
enum Expect {
    /// f64 value (possibly NaN or infinite) and absolute tolerance (NaN when not finite).
    Float(f64, f64),
    Int(i64),
}

impl Expect {
    fn accepts_f32(&self, got: f32) -> bool {
        let got = got as f64;
        match *self {
            Expect::Float(e, _) if e.is_nan() => got.is_nan(),
            Expect::Float(e, _) if e.is_infinite() => got == e,
            Expect::Float(e, tol) => !got.is_nan() && (got - e).abs() <= tol,
            Expect::Int(_) => false,
        }
    }

    fn accepts_int(&self, got: i64) -> bool {
        matches!(*self, Expect::Int(e) if e == got)
    }
}

enum Input {
    F32(Vec<f32>, Vec<f32>),
    I8(Vec<i8>, Vec<i8>),
    B1(Vec<u8>, Vec<u8>),
    Scan {
        metric: Metric,
        dims: usize,
        query: Vec<f32>,
        rows: Vec<f32>,
    },
}

struct Case {
    name: String,
    op: &'static str,
    input: Input,
    expect: Vec<Expect>,
}

impl Case {
    fn json(&self) -> String {
        let mut s = format!("{{\"name\":\"{}\",\"op\":\"{}\"", self.name, self.op);
        match &self.input {
            Input::F32(a, b) => write!(s, ",\"a\":{},\"b\":{}", f32s(a), f32s(b)),
            Input::I8(a, b) => write!(s, ",\"a\":{},\"b\":{}", ints(a), ints(b)),
            Input::B1(a, b) => write!(s, ",\"a\":{},\"b\":{}", ints(a), ints(b)),
            Input::Scan {
                metric,
                dims,
                query,
                rows,
            } => write!(
                s,
                ",\"metric\":{},\"metric_name\":\"{}\",\"dims\":{},\"n_rows\":{},\"query\":{},\"rows\":{}",
                metric.code(),
                metric_name(*metric),
                dims,
                self.expect.len(),
                f32s(query),
                f32s(rows)
            ),
        }
        .unwrap();
        if let Input::Scan { .. } = self.input {
            let values: Vec<f64> = self.expect.iter().map(|e| float_of(e).0).collect();
            // A non-finite expectation has no tolerance: `null`.
            let tols: Vec<String> = self
                .expect
                .iter()
                .map(|e| match float_of(e) {
                    (v, tol) if v.is_finite() => num(tol),
                    _ => "null".into(),
                })
                .collect();
            write!(
                s,
                ",\"expected\":{},\"tol\":[{}]",
                nums(&values),
                tols.join(",")
            )
            .unwrap();
        } else {
            match self.expect[0] {
                Expect::Int(v) => write!(s, ",\"expected\":{v}").unwrap(),
                Expect::Float(v, tol) => {
                    write!(s, ",\"expected\":{}", num(v)).unwrap();
                    if v.is_finite() {
                        write!(s, ",\"tol\":{}", num(tol)).unwrap();
                    }
                }
            }
        }
        s.push('}');
        s
    }

    /// Every disagreement of one kernel table with this case.
    fn check(&self, k: &Kernels) -> Vec<String> {
        let fail = |what: String| vec![format!("{} on {}: {what}", self.name, k.variant())];
        // Pairwise cases have exactly one expectation; scans one per row (maybe none).
        let e = self.expect.first().unwrap_or(&Expect::Int(0));
        match (&self.input, self.op) {
            (Input::F32(a, b), op) => {
                let got = match op {
                    "dot_f32" => k.dot_f32(a, b),
                    "cosine_distance_f32" => k.cosine_distance_f32(a, b),
                    _ => k.l2sq_f32(a, b),
                }
                .unwrap();
                if e.accepts_f32(got) {
                    vec![]
                } else {
                    fail(format!("got {got:e}, expected {:?}", float_of(e)))
                }
            }
            (Input::I8(a, b), op) => {
                let got = match op {
                    "dot_i8" => k.dot_i8(a, b).unwrap() as i64,
                    _ => k.l2sq_i8(a, b).unwrap() as i64,
                };
                if e.accepts_int(got) {
                    vec![]
                } else {
                    fail(format!("got {got}"))
                }
            }
            (Input::B1(a, b), "hamming_b1") => {
                let got = k.hamming_b1(a, b).unwrap() as i64;
                if e.accepts_int(got) {
                    vec![]
                } else {
                    fail(format!("got {got}"))
                }
            }
            (Input::B1(a, b), _) => {
                let got = k.jaccard_b1(a, b).unwrap();
                if e.accepts_f32(got) {
                    vec![]
                } else {
                    fail(format!("got {got:e}"))
                }
            }
            (
                Input::Scan {
                    metric,
                    query,
                    rows,
                    ..
                },
                _,
            ) => {
                let mut out = vec![0.0f32; self.expect.len()];
                k.scan_f32(*metric, query, rows, &mut out).unwrap();
                out.iter()
                    .zip(&self.expect)
                    .enumerate()
                    .filter(|(_, (&got, e))| !e.accepts_f32(got))
                    .map(|(i, (got, e))| {
                        format!(
                            "{} on {}: row {i}: got {got:e}, expected {:?}",
                            self.name,
                            k.variant(),
                            float_of(e)
                        )
                    })
                    .collect()
            }
        }
    }
}

fn float_of(e: &Expect) -> (f64, f64) {
    match *e {
        Expect::Float(v, tol) => (v, tol),
        Expect::Int(v) => (v as f64, 0.0),
    }
}

fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Dot => "dot",
        Metric::Cosine => "cosine",
        Metric::L2sq => "l2sq",
    }
}

fn f32_case(op: &'static str, name: String, a: Vec<f32>, b: Vec<f32>) -> Case {
    let expect = match op {
        "dot_f32" => {
            let (v, tol) = ref_dot(&a, &b);
            Expect::Float(v, tol)
        }
        "cosine_distance_f32" => Expect::Float(ref_cosine(&a, &b), COSINE_TOL),
        "l2sq_f32" => {
            let (v, tol) = ref_l2sq(&a, &b);
            Expect::Float(v, tol)
        }
        _ => unreachable!("not an f32 op: {op}"),
    };
    Case {
        name: format!("{op}/{name}"),
        op,
        input: Input::F32(a, b),
        expect: vec![expect],
    }
}

fn scan_expect(metric: Metric, query: &[f32], row: &[f32]) -> Expect {
    match metric {
        Metric::Dot => {
            let (v, tol) = ref_dot(query, row);
            Expect::Float(-v, tol)
        }
        Metric::Cosine => Expect::Float(ref_cosine(query, row), COSINE_TOL),
        Metric::L2sq => {
            let (v, tol) = ref_l2sq(query, row);
            Expect::Float(v, tol)
        }
    }
}

fn scan_case(name: &str, metric: Metric, query: Vec<f32>, rows: Vec<f32>, n_rows: usize) -> Case {
    let dims = query.len();
    assert_eq!(rows.len(), n_rows * dims);
    let expect = (0..n_rows)
        .map(|i| {
            if dims == 0 {
                // Two empty vectors: every metric is zero (the dot scan gives -0.0).
                Expect::Float(if metric == Metric::Dot { -0.0 } else { 0.0 }, 0.0)
            } else {
                scan_expect(metric, &query, &rows[i * dims..(i + 1) * dims])
            }
        })
        .collect();
    Case {
        name: format!("scan_f32/{}/{name}", metric_name(metric)),
        op: "scan_f32",
        input: Input::Scan {
            metric,
            dims,
            query,
            rows,
        },
        expect,
    }
}

const F32_OPS: [&str; 3] = ["dot_f32", "cosine_distance_f32", "l2sq_f32"];
/// Lengths around the block sizes of every instruction set (4, 8, 16, 32, 64 lanes).
const F32_LENGTHS: [usize; 19] = [
    0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 384, 1000,
];
const INT_LENGTHS: [usize; 18] = [
    0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 257, 1000, 2053,
];

fn cases() -> Vec<Case> {
    let mut rng = Rng(0x0F33_0F33_2026_0003);
    let mut cases = Vec::new();

    // ---- f32 pairwise kernels
    for op in F32_OPS {
        for n in F32_LENGTHS {
            let (a, b) = (rng.vec_f32(n, false), rng.vec_f32(n, false));
            cases.push(f32_case(op, format!("random/n={n}"), a, b));
        }
        for n in [16, 33, 384] {
            let (a, b) = (rng.vec_f32(n, true), rng.vec_f32(n, true));
            cases.push(f32_case(op, format!("random-wide/n={n}"), a, b));
        }
        // Vectors pointing the same way, the opposite way and at right angles.
        let a = rng.vec_f32(33, false);
        let neg: Vec<f32> = a.iter().map(|x| -x).collect();
        let twice: Vec<f32> = a.iter().map(|x| 2.0 * x).collect();
        cases.push(f32_case(op, "identical/n=33".into(), a.clone(), a.clone()));
        cases.push(f32_case(op, "scaled/n=33".into(), a.clone(), twice));
        cases.push(f32_case(op, "opposite/n=33".into(), a, neg));
        let mut e0 = vec![0.0f32; 17];
        let mut e1 = vec![0.0f32; 17];
        e0[0] = 1.0;
        e1[16] = -3.5;
        cases.push(f32_case(op, "orthogonal/n=17".into(), e0, e1));
        // Zero vectors (the cosine conventions) and negative zeros.
        let r = rng.vec_f32(17, false);
        cases.push(f32_case(
            op,
            "zero-both/n=16".into(),
            vec![0.0; 16],
            vec![-0.0; 16],
        ));
        cases.push(f32_case(op, "zero-a/n=17".into(), vec![0.0; 17], r.clone()));
        cases.push(f32_case(op, "zero-b/n=17".into(), r, vec![0.0; 17]));
        // Non-finite inputs.
        let mut a = rng.vec_f32(17, false);
        a[5] = f32::NAN;
        cases.push(f32_case(
            op,
            "special-nan/n=17".into(),
            a,
            rng.vec_f32(17, false),
        ));
        let mut a = vec![1.0f32; 9];
        a[3] = f32::INFINITY;
        cases.push(f32_case(op, "special-inf/n=9".into(), a, vec![0.5; 9]));
    }
    // The longest f32 input (the accuracy bound is tested up to 4097).
    let (a, b) = (rng.vec_f32(2053, false), rng.vec_f32(2053, false));
    cases.push(f32_case("dot_f32", "random/n=2053".into(), a, b));

    // ---- i8 kernels
    for (op, is_dot) in [("dot_i8", true), ("l2sq_i8", false)] {
        let mut push = |name: String, a: Vec<i8>, b: Vec<i8>| {
            let expected = if is_dot {
                ref_dot_i8(&a, &b)
            } else {
                ref_l2sq_i8(&a, &b)
            };
            cases.push(Case {
                name: format!("{op}/{name}"),
                op,
                input: Input::I8(a, b),
                expect: vec![Expect::Int(expected)],
            });
        };
        for n in INT_LENGTHS {
            push(format!("random/n={n}"), rng.vec_i8(n), rng.vec_i8(n));
        }
        // Extremes: -128 * -128 pairs overflow an i16 pair sum, 255^2 needs 17 bits.
        for n in [64, 65, 1031] {
            for (x, y) in [(-128i8, -128i8), (-128, 127), (127, 127), (127, -128)] {
                push(format!("extreme/{x},{y}/n={n}"), vec![x; n], vec![y; n]);
            }
        }
        let ext = [-128i8, -127, 127, 0, -1, 1];
        for n in [33, 1000] {
            let a: Vec<i8> = (0..n).map(|_| rng.pick(&ext)).collect();
            let b: Vec<i8> = (0..n).map(|_| rng.pick(&ext)).collect();
            push(format!("extreme-mix/n={n}"), a, b);
        }
    }

    // ---- binary kernels
    for op in ["hamming_b1", "jaccard_b1"] {
        let mut push = |name: String, a: Vec<u8>, b: Vec<u8>| {
            let expect = if op == "hamming_b1" {
                Expect::Int(ref_hamming(&a, &b))
            } else {
                Expect::Float(ref_jaccard(&a, &b), JACCARD_TOL)
            };
            cases.push(Case {
                name: format!("{op}/{name}"),
                op,
                input: Input::B1(a, b),
                expect: vec![expect],
            });
        };
        for n in INT_LENGTHS {
            push(format!("random/n={n}"), rng.vec_u8(n), rng.vec_u8(n));
        }
        for n in [1, 33, 65] {
            push(format!("zeros/n={n}"), vec![0; n], vec![0; n]);
            push(format!("ones/n={n}"), vec![0xFF; n], vec![0xFF; n]);
            push(format!("ones-vs-zeros/n={n}"), vec![0xFF; n], vec![0; n]);
        }
        let mut a = vec![0u8; 64];
        let mut b = vec![0u8; 64];
        a[63] = 0x80;
        b[0] = 0x01;
        push("single-bits/n=64".into(), a.clone(), b);
        push("single-bit-same/n=64".into(), a.clone(), a);
        // Sparse random bits (jaccard far from 1/2).
        let sparse: Vec<u8> = (0..100).map(|_| rng.pick(&[0u8, 0, 0, 1, 16])).collect();
        let sparse2: Vec<u8> = (0..100).map(|_| rng.pick(&[0u8, 0, 1, 3])).collect();
        push("sparse/n=100".into(), sparse, sparse2);
    }

    // ---- scan
    for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
        cases.push(scan_case("empty-dims/rows=3", metric, vec![], vec![], 3));
        let q = rng.vec_f32(5, false);
        cases.push(scan_case("no-rows/dims=5", metric, q, vec![], 0));
        for (dims, n_rows) in [
            (1, 1),
            (3, 4),
            (8, 5),
            (16, 7),
            (17, 9),
            (33, 5),
            (64, 8),
            (65, 3),
            (384, 5),
        ] {
            let q = rng.vec_f32(dims, false);
            let rows = rng.vec_f32(dims * n_rows, false);
            cases.push(scan_case(
                &format!("random/dims={dims}/rows={n_rows}"),
                metric,
                q,
                rows,
                n_rows,
            ));
        }
        let q = rng.vec_f32(20, true);
        let rows = rng.vec_f32(20 * 5, true);
        cases.push(scan_case("random-wide/dims=20/rows=5", metric, q, rows, 5));
        // Rows: a copy of the query, its negation, zeros, a random row.
        let q = rng.vec_f32(24, false);
        let mut rows = q.clone();
        rows.extend(q.iter().map(|x| -x));
        rows.extend([0.0f32; 24]);
        rows.extend(rng.vec_f32(24, false));
        cases.push(scan_case(
            "self-opposite-zero/dims=24/rows=4",
            metric,
            q,
            rows,
            4,
        ));
        let rows = rng.vec_f32(24 * 3, false);
        cases.push(scan_case(
            "zero-query/dims=24/rows=3",
            metric,
            vec![0.0; 24],
            rows,
            3,
        ));
        // A NaN in one row spoils that row only.
        let q = rng.vec_f32(16, false);
        let mut rows = rng.vec_f32(16 * 5, false);
        rows[2 * 16 + 7] = f32::NAN;
        cases.push(scan_case(
            "special-nan-row/dims=16/rows=5",
            metric,
            q,
            rows,
            5,
        ));
    }
    cases
}

fn main() -> ExitCode {
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        eprintln!("duplicate case name {}", w[0]);
        return ExitCode::FAILURE;
    }

    let mut failures = Vec::new();
    let mut tables = Vec::new();
    for k in Kernels::variants() {
        tables.push(k.variant());
        for case in &cases {
            failures.extend(case.check(k));
        }
    }
    if !failures.is_empty() {
        for f in failures.iter().take(50) {
            eprintln!("golden: {f}");
        }
        eprintln!(
            "golden: {} disagreements; kernels.json not written",
            failures.len()
        );
        return ExitCode::FAILURE;
    }
    eprintln!(
        "golden: {} cases agree with the native kernels ({})",
        cases.len(),
        tables.join(", ")
    );

    let mut out = String::from(
        "{\"format\":\"ferrovec-golden-kernels\",\"version\":1,\n\"generator\":\"tests/golden/gen.rs (make golden); schema and tolerances: tests/golden/README.md\",\n\"cases\":[\n",
    );
    let lines: Vec<String> = cases.iter().map(Case::json).collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n]}\n");
    print!("{out}");
    ExitCode::SUCCESS
}
