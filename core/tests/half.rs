//! The f16 and bf16 conversions: to f32 over every bit pattern against the format's
//! definition evaluated in f64, from f32 against a nearest-value search over every finite
//! half value (ties to even), and on x86_64 against the F16C instructions.

use ferrovec_core::kernels::{Bf16, F16};

/// The value a half-precision bit pattern encodes, from the format's definition, or `None`
/// for a NaN.
fn decode(bits: u16, exp_bits: u32, man_bits: u32) -> Option<f64> {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = (bits as u32 >> man_bits) & ((1 << exp_bits) - 1);
    let man = (bits as u32 & ((1 << man_bits) - 1)) as f64;
    let bias = (1i32 << (exp_bits - 1)) - 1;
    let scale = (1u64 << man_bits) as f64;
    if exp == (1 << exp_bits) - 1 {
        return if man == 0.0 {
            Some(sign * f64::INFINITY)
        } else {
            None
        };
    }
    Some(if exp == 0 {
        sign * man / scale * 2f64.powi(1 - bias)
    } else {
        sign * (1.0 + man / scale) * 2f64.powi(exp as i32 - bias)
    })
}

fn decode_f16(bits: u16) -> Option<f64> {
    decode(bits, 5, 10)
}

fn decode_bf16(bits: u16) -> Option<f64> {
    decode(bits, 8, 7)
}

fn check_to_f32(name: &str, to_f32: impl Fn(u16) -> f32, decode: impl Fn(u16) -> Option<f64>) {
    for bits in 0..=u16::MAX {
        let got = to_f32(bits);
        match decode(bits) {
            Some(want) => {
                assert_eq!(got as f64, want, "{name} {bits:#06x}");
                // Signed zeros keep their sign.
                assert_eq!(
                    got.is_sign_negative(),
                    bits >> 15 == 1,
                    "{name} {bits:#06x}"
                );
            }
            None => {
                assert!(got.is_nan(), "{name} {bits:#06x}: {got}");
                assert_eq!(
                    got.is_sign_negative(),
                    bits >> 15 == 1,
                    "{name} {bits:#06x}"
                );
            }
        }
    }
}

#[test]
fn f16_to_f32_is_exact_for_every_bit_pattern() {
    check_to_f32("f16", |b| F16(b).to_f32(), decode_f16);
    // NaNs keep their payload and come out quiet, signalling ones too.
    assert_eq!(F16(0x7e01).to_f32().to_bits(), 0x7fc0_2000);
    assert_eq!(F16(0xfc01).to_f32().to_bits(), 0xffc0_2000);
}

#[test]
fn bf16_to_f32_is_exact_for_every_bit_pattern() {
    check_to_f32("bf16", |b| Bf16(b).to_f32(), decode_bf16);
}

/// Every finite non-negative half value in increasing order with its bits, then the first
/// value past the largest finite one (its infinity), which has an even mantissa.
fn positive_values(decode: impl Fn(u16) -> Option<f64>, inf_bits: u16) -> Vec<(f64, u16)> {
    let mut v: Vec<(f64, u16)> = (0..inf_bits).map(|b| (decode(b).unwrap(), b)).collect();
    let (max, _) = v[v.len() - 1];
    let (prev, _) = v[v.len() - 2];
    v.push((max + (max - prev), inf_bits));
    v
}

/// The reference rounding: the nearest of `values` to `x` (ties to the even bits), and
/// infinity at or beyond the value past the largest finite one.
fn nearest(values: &[(f64, u16)], x: f32) -> u16 {
    let sign = if x.is_sign_negative() { 0x8000 } else { 0 };
    let a = (x as f64).abs();
    let (top, inf) = values[values.len() - 1];
    if a >= top {
        return sign | inf;
    }
    let i = values.partition_point(|&(v, _)| v <= a);
    let (lo, lo_bits) = values[i - 1];
    if lo == a {
        return sign | lo_bits;
    }
    let (hi, hi_bits) = values[i];
    let bits = match (a - lo).partial_cmp(&(hi - a)).unwrap() {
        core::cmp::Ordering::Less => lo_bits,
        core::cmp::Ordering::Greater => hi_bits,
        core::cmp::Ordering::Equal if lo_bits & 1 == 0 => lo_bits,
        core::cmp::Ordering::Equal => hi_bits,
    };
    sign | bits
}

/// Inputs that exercise every rounding decision: each half value, each midpoint between
/// neighbours and the f32 values either side of it, plus pseudo-random f32 bit patterns.
fn inputs(values: &[(f64, u16)]) -> Vec<f32> {
    let mut xs = Vec::new();
    for w in values.windows(2) {
        let (lo, hi) = (w[0].0 as f32, w[1].0);
        let mid = ((w[0].0 + hi) / 2.0) as f32;
        for x in [
            lo,
            mid,
            f32::from_bits(mid.to_bits() - 1),
            f32::from_bits(mid.to_bits() + 1),
        ] {
            xs.push(x);
            xs.push(-x);
        }
    }
    let mut s = 7u64;
    for _ in 0..1_000_000 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        xs.push(f32::from_bits((s >> 32) as u32));
    }
    xs.extend([
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        65520.0,
        65519.996,
    ]);
    xs.extend([
        f32::MIN_POSITIVE,
        1e-45,
        2.9802322e-8,
        2.9802326e-8,
        0.0,
        -0.0,
    ]);
    xs
}

fn check_from_f32(
    name: &str,
    values: &[(f64, u16)],
    from_f32: impl Fn(f32) -> u16,
    to_f32: impl Fn(u16) -> f32,
) {
    for x in inputs(values) {
        let got = from_f32(x);
        if x.is_nan() {
            let back = to_f32(got);
            assert!(back.is_nan(), "{name} {:#x} -> {got:#06x}", x.to_bits());
            assert_eq!(
                back.is_sign_negative(),
                x.is_sign_negative(),
                "{name} NaN sign"
            );
            continue;
        }
        assert_eq!(
            got,
            nearest(values, x),
            "{name} {x:e} ({:#010x})",
            x.to_bits()
        );
    }
}

#[test]
fn f16_from_f32_rounds_to_nearest_even() {
    let values = positive_values(decode_f16, 0x7c00);
    check_from_f32("f16", &values, |x| F16::from_f32(x).0, |b| F16(b).to_f32());
    assert_eq!(F16::from_f32(65520.0).0, 0x7c00);
    assert_eq!(F16::from_f32(65519.996).0, 0x7bff);
    assert_eq!(
        F16::from_f32(f32::NAN).to_f32().to_bits() & 0x0040_0000,
        0x0040_0000
    );
}

#[test]
fn bf16_from_f32_rounds_to_nearest_even() {
    let values = positive_values(decode_bf16, 0x7f80);
    check_from_f32(
        "bf16",
        &values,
        |x| Bf16::from_f32(x).0,
        |b| Bf16(b).to_f32(),
    );
    // A signalling NaN whose payload lives only in the dropped bits stays a NaN.
    assert!(Bf16::from_f32(f32::from_bits(0x7f80_0001))
        .to_f32()
        .is_nan());
}

/// The hardware conversions (F16C) agree bit for bit, NaNs included, on every f16 and on
/// every 4099th f32 bit pattern plus the rounding-boundary inputs.
#[cfg(target_arch = "x86_64")]
#[test]
fn f16_conversions_match_f16c() {
    use core::arch::x86_64::*;
    if !std::is_x86_feature_detected!("f16c") {
        eprintln!("no F16C on this CPU: skipped");
        return;
    }
    #[target_feature(enable = "f16c")]
    fn hw_to_f32(b: u16) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(b as i32)))
    }
    #[target_feature(enable = "f16c")]
    fn hw_from_f32(x: f32) -> u16 {
        _mm_extract_epi16::<0>(_mm_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm_set_ss(x))) as u16
    }
    for b in 0..=u16::MAX {
        // SAFETY: F16C detected above.
        let want = unsafe { hw_to_f32(b) };
        assert_eq!(F16(b).to_f32().to_bits(), want.to_bits(), "{b:#06x}");
    }
    let values = positive_values(decode_f16, 0x7c00);
    let sampled = (0..=u32::MAX).step_by(4099).map(f32::from_bits);
    for x in inputs(&values).into_iter().chain(sampled) {
        // SAFETY: F16C detected above.
        let want = unsafe { hw_from_f32(x) };
        assert_eq!(F16::from_f32(x).0, want, "{x:e} ({:#010x})", x.to_bits());
    }
}
