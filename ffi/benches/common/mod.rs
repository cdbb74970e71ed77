//! What the hand-written benchmarks share (`kernels.rs`, `sparse.rs`): round-robin timing
//! with a noise figure, PASS/MISS verdicts and their summary, grids of cells, deterministic
//! data in 64-byte-aligned buffers, and the read-bandwidth loops a memory-bound kernel is
//! held to.

// Each benchmark binary uses its own subset.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The largest cache of CPU 0 as Linux reports it.
pub fn last_level_cache_bytes() -> Option<usize> {
    (0..8)
        .filter_map(|index| {
            let path = format!("/sys/devices/system/cpu/cpu0/cache/index{index}/size");
            parse_cache_size(&std::fs::read_to_string(path).ok()?)
        })
        .max()
}

/// Parses sysfs cache sizes such as `"491520K"` or `"2M"`.
pub fn parse_cache_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.strip_suffix('K') {
        Some(digits) => (digits, 1 << 10),
        None => match text.strip_suffix('M') {
            Some(digits) => (digits, 1 << 20),
            None => (text, 1),
        },
    };
    digits.parse::<usize>().ok().map(|n| n * unit)
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

// ------------------------------------------------------------------------------ timing

/// One thing to time; `run(iters)` performs its operation `iters` times.
pub struct Candidate<'a> {
    pub name: String,
    run: Box<dyn FnMut(u64) + 'a>,
}

impl<'a> Candidate<'a> {
    /// `op` must `black_box` its inputs; its result goes through `black_box` here.
    pub fn new<R>(name: impl Into<String>, mut op: impl FnMut() -> R + 'a) -> Candidate<'a> {
        Candidate {
            name: name.into(),
            run: Box::new(move |iters| {
                for _ in 0..iters {
                    black_box(op());
                }
            }),
        }
    }
}

/// Per-operation times of a set of candidates timed together.
pub struct Timings {
    pub names: Vec<String>,
    pub median_ns: Vec<f64>,
    /// Interquartile range over the median: how noisy the samples were.
    pub spread: Vec<f64>,
}

impl Timings {
    pub fn ns(&self, name: &str) -> Option<f64> {
        let index = self.names.iter().position(|n| n == name)?;
        Some(self.median_ns[index])
    }

    pub fn worst_spread(&self) -> f64 {
        self.spread.iter().copied().fold(0.0, f64::max)
    }
}

/// Times every candidate: `samples` rounds, each running every candidate once for about
/// `sample_time`, starting one candidate later each round.
pub fn time_round_robin(
    candidates: &mut [Candidate],
    samples: usize,
    sample_time: Duration,
) -> Timings {
    let iters: Vec<u64> = candidates
        .iter_mut()
        .map(|candidate| calibrate(candidate, sample_time))
        .collect();
    let count = candidates.len();
    let mut ns_per_op = vec![Vec::with_capacity(samples); count];
    for round in 0..samples {
        for k in 0..count {
            let i = (round + k) % count;
            let start = Instant::now();
            (candidates[i].run)(iters[i]);
            ns_per_op[i].push(start.elapsed().as_nanos() as f64 / iters[i] as f64);
        }
    }
    let (median_ns, spread) = ns_per_op
        .iter_mut()
        .map(|samples| {
            samples.sort_by(f64::total_cmp);
            let median = quantile(samples, 0.5);
            (
                median,
                (quantile(samples, 0.75) - quantile(samples, 0.25)) / median,
            )
        })
        .unzip();
    Timings {
        names: candidates.iter().map(|c| c.name.clone()).collect(),
        median_ns,
        spread,
    }
}

/// The number of repetitions that takes about `sample_time` (this also warms up).
pub fn calibrate(candidate: &mut Candidate, sample_time: Duration) -> u64 {
    let mut iters = 1u64;
    loop {
        let start = Instant::now();
        (candidate.run)(iters);
        let elapsed = start.elapsed();
        if elapsed >= sample_time / 4 || iters >= 1 << 32 {
            let per_op = elapsed.as_secs_f64() / iters as f64;
            return ((sample_time.as_secs_f64() / per_op).round() as u64).max(1);
        }
        iters *= 2;
    }
}

/// The `q`-quantile of `sorted`, which must be sorted and non-empty (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

// ------------------------------------------------------------------------------ verdicts

pub struct Verdict {
    target: &'static str,
    what: String,
    ratio: f64,
    threshold: f64,
}

impl Verdict {
    pub fn pass(&self) -> bool {
        self.ratio >= self.threshold
    }
}

#[derive(Default)]
pub struct Verdicts(Vec<Verdict>);

impl Verdicts {
    /// Records a target check and returns `"PASS"` or `"MISS"` for printing.
    pub fn check(
        &mut self,
        target: &'static str,
        what: String,
        ratio: f64,
        threshold: f64,
    ) -> &'static str {
        let verdict = Verdict {
            target,
            what,
            ratio,
            threshold,
        };
        let label = if verdict.pass() { "PASS" } else { "MISS" };
        self.0.push(verdict);
        label
    }

    pub fn print_summary(&self) {
        println!("\n== summary ==");
        let mut targets: Vec<&str> = Vec::new();
        for verdict in &self.0 {
            if !targets.contains(&verdict.target) {
                targets.push(verdict.target);
            }
        }
        for target in targets {
            let checks: Vec<&Verdict> = self.0.iter().filter(|v| v.target == target).collect();
            let passed = checks.iter().filter(|v| v.pass()).count();
            let worst = checks
                .iter()
                .min_by(|a, b| (a.ratio / a.threshold).total_cmp(&(b.ratio / b.threshold)))
                .expect("a target has at least one check");
            println!(
                "{target:<34} {passed:>2}/{:<2} {}  (worst {:.2} at {}, need >= {:.2})",
                checks.len(),
                if passed == checks.len() {
                    "PASS"
                } else {
                    "MISS"
                },
                worst.ratio,
                worst.what,
                worst.threshold,
            );
            for miss in checks.iter().filter(|v| !v.pass()) {
                println!("    MISS {}: {:.3}", miss.what, miss.ratio);
            }
        }
    }
}

// ------------------------------------------------------------------------------ output

/// Prints rows of cells as right-aligned columns (the first column left-aligned).
pub fn print_grid(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(String::len)
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        println!("  {}", cells.join("  ").trim_end());
    }
}

pub fn ns_cell(ns: Option<f64>) -> String {
    ns.map_or_else(|| "-".to_string(), |ns| format!("{ns:.1}"))
}

pub fn ratio_cell(numerator: Option<f64>, denominator: Option<f64>) -> String {
    ratio(numerator, denominator).map_or_else(|| "-".to_string(), |r| format!("{r:.2}"))
}

pub fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    Some(numerator? / denominator?)
}

// ------------------------------------------------------------------------------ data

/// splitmix64: deterministic data, identical on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`.
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// Uniform in `[-1, 1)`, with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// A buffer whose slice starts on a 64-byte boundary, so no load of a vector kernel is split
/// across cache lines by an accident of the allocator.
pub struct Aligned<T> {
    storage: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy> Aligned<T> {
    /// `len` elements from `fill` (every page is written, so none faults during timing).
    pub fn new(len: usize, mut fill: impl FnMut() -> T) -> Aligned<T> {
        let slack = 64 / size_of::<T>();
        let storage: Vec<T> = (0..len + slack).map(|_| fill()).collect();
        let start = storage.as_ptr().align_offset(64);
        assert!(start <= slack, "cannot align the buffer to 64 bytes");
        Aligned {
            storage,
            start,
            len,
        }
    }

    pub fn get(&self) -> &[T] {
        &self.storage[self.start..self.start + self.len]
    }

    pub fn get_mut(&mut self) -> &mut [T] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

pub fn verdict_cell(
    verdicts: &mut Verdicts,
    target: &'static str,
    what: &str,
    ratio: Option<f64>,
    threshold: f64,
) -> String {
    ratio
        .map_or("-", |r| {
            verdicts.check(target, what.to_string(), r, threshold)
        })
        .to_string()
}

pub fn header_row(first: &str, columns: &[&str], last: &[&str]) -> Vec<String> {
    std::iter::once(first)
        .chain(columns.iter().copied())
        .chain(last.iter().copied())
        .map(String::from)
        .collect()
}

/// A few ways to stream through `data`; the best of them is "the" read bandwidth.
pub fn read_bandwidth_candidates(data: &[f32]) -> Vec<Candidate<'_>> {
    let mut candidates = vec![Candidate::new("read portable", move || {
        black_box(data)
            .iter()
            .fold(0u32, |acc, x| acc | x.to_bits())
    })];
    if let Some(avx2) = X86::detect_avx2() {
        candidates.push(Candidate::new("read avx2 x4", move || {
            avx2.read_streams_avx2::<1, 4>(black_box(data))
        }));
        candidates.push(Candidate::new("read avx2 x8", move || {
            avx2.read_streams_avx2::<1, 8>(black_box(data))
        }));
        candidates.push(Candidate::new("read avx2 2 streams", move || {
            avx2.read_streams_avx2::<2, 2>(black_box(data))
        }));
        candidates.push(Candidate::new("read avx2 4 streams", move || {
            avx2.read_streams_avx2::<4, 2>(black_box(data))
        }));
    }
    if let Some(avx512) = X86::detect_avx512() {
        candidates.push(Candidate::new("read avx512 x4", move || {
            avx512.read_all_avx512::<4>(black_box(data))
        }));
        // The scan kernels prefetch in software, so the bound they are held to must too:
        // the same loop with a prefetch per line 2, 6 and 12 KiB ahead.
        candidates.push(Candidate::new("read avx512 pf 2K", move || {
            avx512.read_all_prefetch_avx512::<512>(black_box(data))
        }));
        candidates.push(Candidate::new("read avx512 pf 6K", move || {
            avx512.read_all_prefetch_avx512::<1536>(black_box(data))
        }));
        candidates.push(Candidate::new("read avx512 pf 12K", move || {
            avx512.read_all_prefetch_avx512::<3072>(black_box(data))
        }));
    }
    candidates
}

// ------------------------------------------------------------------------------ raw loops

/// Proof that the CPU has an instruction set, obtained only from a runtime check.
#[derive(Clone, Copy)]
pub struct X86 {
    _checked: (),
}

#[cfg(target_arch = "x86_64")]
impl X86 {
    pub fn detect_avx2() -> Option<X86> {
        std::is_x86_feature_detected!("avx2").then_some(X86 { _checked: () })
    }

    pub fn detect_avx512() -> Option<X86> {
        std::is_x86_feature_detected!("avx512f").then_some(X86 { _checked: () })
    }

    /// The L1 load floor of a two-vector kernel: loads `a` and `b` once, nothing else.
    pub fn load_both(self, a: &[f32], b: &[f32]) -> i32 {
        // SAFETY: `self` comes from `detect_avx512`, so the CPU has AVX-512F.
        unsafe { x86::load_both_avx512(a, b) }
    }

    /// Streams through `data` with 512-bit loads into `ACC` accumulators.
    pub fn read_all_avx512<const ACC: usize>(self, data: &[f32]) -> i32 {
        // SAFETY: `self` comes from `detect_avx512`, so the CPU has AVX-512F.
        unsafe { x86::read_all_avx512::<ACC>(data) }
    }

    /// Streams through `data` with 512-bit loads into 4 accumulators, prefetching each line
    /// `AHEAD` elements ahead.
    pub fn read_all_prefetch_avx512<const AHEAD: usize>(self, data: &[f32]) -> i32 {
        // SAFETY: `self` comes from `detect_avx512`, so the CPU has AVX-512F.
        unsafe { x86::read_all_prefetch_avx512::<AHEAD>(data) }
    }

    /// Streams through `STREAMS` far-apart parts of `data` at once with 256-bit loads,
    /// `ACC` accumulators per part.
    pub fn read_streams_avx2<const STREAMS: usize, const ACC: usize>(self, data: &[f32]) -> i32 {
        // SAFETY: `self` comes from `detect_avx2`, so the CPU has AVX2.
        unsafe { x86::read_streams_avx2::<STREAMS, ACC>(data) }
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl X86 {
    pub fn detect_avx2() -> Option<X86> {
        None
    }

    pub fn detect_avx512() -> Option<X86> {
        None
    }

    pub fn load_both(self, _: &[f32], _: &[f32]) -> i32 {
        unreachable!("no X86 value exists off x86_64")
    }

    pub fn read_all_avx512<const ACC: usize>(self, _: &[f32]) -> i32 {
        unreachable!("no X86 value exists off x86_64")
    }

    pub fn read_all_prefetch_avx512<const AHEAD: usize>(self, _: &[f32]) -> i32 {
        unreachable!("no X86 value exists off x86_64")
    }

    pub fn read_streams_avx2<const STREAMS: usize, const ACC: usize>(self, _: &[f32]) -> i32 {
        unreachable!("no X86 value exists off x86_64")
    }
}

/// Loops that only load: OR (bitwise, one cycle, never the bottleneck) of everything read.
#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use std::arch::x86_64::*;

    /// Loads both vectors, 4 x 64 bytes of each per iteration into 4 accumulators (one
    /// three-way OR per pair of loads), then a masked tail, like the f32 kernels do.
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn load_both_avx512(a: &[f32], b: &[f32]) -> i32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_si512(); 4];
        let mut i = 0;
        // SAFETY: unmasked loads read indices i..i+64 <= n of both slices; the masked loads
        // read only lanes below n - i (masked-off lanes never fault).
        unsafe {
            while i + 64 <= n {
                for (j, lane) in acc.iter_mut().enumerate() {
                    let x = _mm512_castps_si512(_mm512_loadu_ps(pa.add(i + 16 * j)));
                    let y = _mm512_castps_si512(_mm512_loadu_ps(pb.add(i + 16 * j)));
                    *lane = _mm512_ternarylogic_epi32::<0xfe>(*lane, x, y);
                }
                i += 64;
            }
            while i < n {
                let mask = if i + 16 <= n {
                    0xffff
                } else {
                    (1u16 << (n - i)) - 1
                };
                let x = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, pa.add(i)));
                let y = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, pb.add(i)));
                acc[0] = _mm512_ternarylogic_epi32::<0xfe>(acc[0], x, y);
                i += 16;
            }
        }
        let all = _mm512_or_si512(
            _mm512_or_si512(acc[0], acc[1]),
            _mm512_or_si512(acc[2], acc[3]),
        );
        _mm512_reduce_or_epi32(all)
    }

    /// ORs every 64-byte line of `data` into `ACC` accumulators.
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn read_all_avx512<const ACC: usize>(data: &[f32]) -> i32 {
        let n = data.len();
        let p = data.as_ptr();
        let mut acc = [_mm512_setzero_si512(); ACC];
        let mut i = 0;
        // SAFETY: unmasked loads read indices i..i+16*ACC <= n; the masked load reads only
        // lanes below n - i.
        unsafe {
            while i + 16 * ACC <= n {
                for (j, lane) in acc.iter_mut().enumerate() {
                    let x = _mm512_castps_si512(_mm512_loadu_ps(p.add(i + 16 * j)));
                    *lane = _mm512_or_si512(*lane, x);
                }
                i += 16 * ACC;
            }
            while i < n {
                let mask = if i + 16 <= n {
                    0xffff
                } else {
                    (1u16 << (n - i)) - 1
                };
                let x = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, p.add(i)));
                acc[0] = _mm512_or_si512(acc[0], x);
                i += 16;
            }
        }
        _mm512_reduce_or_epi32(
            acc.iter()
                .fold(_mm512_setzero_si512(), |all, &x| _mm512_or_si512(all, x)),
        )
    }

    /// ORs every 64-byte line of `data` into 4 accumulators, prefetching `AHEAD` elements
    /// ahead of each load (whole lines only; the tail is read without prefetch).
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn read_all_prefetch_avx512<const AHEAD: usize>(data: &[f32]) -> i32 {
        let lines = data.chunks_exact(64);
        let tail = lines
            .remainder()
            .iter()
            .fold(0u32, |acc, x| acc | x.to_bits());
        let p = data.as_ptr();
        let mut acc = [_mm512_setzero_si512(); 4];
        for (k, _) in lines.enumerate() {
            let i = 64 * k;
            for (j, lane) in acc.iter_mut().enumerate() {
                // A prefetch never faults, so it may point past the end of `data`.
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(i + 16 * j + AHEAD).cast());
                // SAFETY: indices i + 16 * j + 0..16 lie in this chunk of 64.
                let x = unsafe { _mm512_loadu_ps(p.add(i + 16 * j)) };
                *lane = _mm512_or_si512(*lane, _mm512_castps_si512(x));
            }
        }
        let all = acc
            .iter()
            .fold(_mm512_setzero_si512(), |all, &x| _mm512_or_si512(all, x));
        _mm512_reduce_or_epi32(all) | tail as i32
    }

    /// Splits `data` into `STREAMS` equal parts and ORs them in step (so the hardware
    /// prefetchers follow `STREAMS` streams), 256-bit loads into `ACC` accumulators per part.
    #[inline(never)]
    #[target_feature(enable = "avx2")]
    pub(crate) fn read_streams_avx2<const STREAMS: usize, const ACC: usize>(data: &[f32]) -> i32 {
        let step = 8 * ACC;
        let part = data.len() / STREAMS / step * step;
        let p = data.as_ptr();
        let mut acc = [[_mm256_setzero_si256(); ACC]; STREAMS];
        let mut i = 0;
        // SAFETY: stream s reads indices s * part + i + 8 * j + 0..8 < (s + 1) * part <=
        // data.len(), since i + step <= part.
        unsafe {
            while i < part {
                for (s, lanes) in acc.iter_mut().enumerate() {
                    for (j, lane) in lanes.iter_mut().enumerate() {
                        let x = _mm256_loadu_ps(p.add(s * part + i + 8 * j));
                        *lane = _mm256_or_si256(*lane, _mm256_castps_si256(x));
                    }
                }
                i += step;
            }
        }
        let tail = data[STREAMS * part..]
            .iter()
            .fold(0u32, |acc, x| acc | x.to_bits());
        let all = acc
            .iter()
            .flatten()
            .fold(_mm256_setzero_si256(), |all, &x| _mm256_or_si256(all, x));
        let half = _mm_or_si128(
            _mm256_castsi256_si128(all),
            _mm256_extracti128_si256::<1>(all),
        );
        let word = _mm_or_si128(half, _mm_unpackhi_epi64(half, half));
        let word = _mm_or_si128(word, _mm_shuffle_epi32::<0b01>(word));
        _mm_cvtsi128_si32(word) | tail as i32
    }
}
