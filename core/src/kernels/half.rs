//! Half-precision element types for stored rows: IEEE 754 binary16 ([`F16`]) and bfloat16
//! ([`Bf16`]), kept as their bit patterns.
//!
//! Both convert to f32 exactly, so a distance between an f32 query and a half-precision row
//! is the f32 distance to the row's f32 values: on one kernel table, `dot_f16(q, row)` returns
//! the same bits as `dot_f32(q, row.map(F16::to_f32))`, and likewise for every other half
//! kernel. Conversions from f32 round to nearest, ties to even, as the hardware
//! instructions (`vcvtps2ph` with RNE, `vcvtneps2bf16`) do.
//!
//! Written by hand rather than with the `half` crate: core is `no_std`, the conversions are a
//! few lines each, and the tests check them over every bit pattern.

/// An IEEE 754 binary16 value: 1 sign bit, 5 exponent bits, 10 mantissa bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct F16(pub u16);

/// A bfloat16 value: the upper 16 bits of an f32 (1 sign bit, 8 exponent bits, 7 mantissa
/// bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Bf16(pub u16);

/// `bits` viewed as values of `T`, a `#[repr(transparent)]` wrapper of `u16`.
macro_rules! slice_from_bits {
    ($t:ty) => {
        /// Stored bit patterns viewed as values, without copying.
        #[inline]
        pub fn slice_from_bits(bits: &[u16]) -> &[$t] {
            // SAFETY: the type is `#[repr(transparent)]` over `u16`: same size, alignment and
            // valid bit patterns (every u16 is a value), so the slice is reinterpreted as is.
            unsafe { core::slice::from_raw_parts(bits.as_ptr().cast::<$t>(), bits.len()) }
        }
    };
}

impl F16 {
    slice_from_bits!(F16);

    /// The value with these bits.
    #[inline]
    pub const fn from_bits(bits: u16) -> F16 {
        F16(bits)
    }

    /// The bits of this value.
    #[inline]
    pub const fn to_bits(self) -> u16 {
        self.0
    }

    /// The exact f32 value, bit for bit what the hardware conversions (`vcvtph2ps`, NEON
    /// `fcvtl`) return: NaNs keep their sign and payload (shifted into the top of the f32
    /// mantissa) and come out quiet.
    #[inline(always)]
    pub fn to_f32(self) -> f32 {
        // No branches, so that a loop of conversions vectorizes: all three cases are computed
        // and one is selected. Normal: exponent and mantissa moved into f32 position and
        // rebiased. Zero or subnormal: m * 2^-24 = (2^-14 + m * 2^-24) - 2^-14, exact, and
        // without an f32 subnormal anywhere (a CPU set to treat those as zero, DAZ, gives
        // the same result). Infinity and NaN: the all-ones exponent.
        const REBIAS: u32 = (127 - 15) << 23;
        const TWO_POW_MINUS_14: u32 = (127 - 14) << 23;
        let h = self.0 as u32;
        let em = h & 0x7fff;
        let normal = (em << 13) + REBIAS;
        let small = (f32::from_bits((em << 13) + TWO_POW_MINUS_14)
            - f32::from_bits(TWO_POW_MINUS_14))
        .to_bits();
        // A signalling NaN comes out quiet, as F16C's and NEON's conversions return it.
        let quiet = if em > 0x7c00 { 0x40_0000 } else { 0 };
        let special = (em << 13) | 0x7f80_0000 | quiet;
        let o = if em >= 0x7c00 {
            special
        } else if em < 0x0400 {
            small
        } else {
            normal
        };
        f32::from_bits(o | ((h & 0x8000) << 16))
    }

    /// The nearest f16 to `x`, ties to even; values at or beyond 65520 in magnitude become
    /// infinity, values at or below 2^-25 in magnitude a signed zero. A NaN becomes a quiet
    /// NaN with the same sign and the top bits of its payload.
    #[inline]
    pub fn from_f32(x: f32) -> F16 {
        let b = x.to_bits();
        let sign = ((b >> 16) & 0x8000) as u16;
        let abs = b & 0x7fff_ffff;
        let bits = if abs > 0x7f80_0000 {
            0x7e00 | ((abs >> 13) & 0x3ff) as u16
        } else if abs >= 0x477f_f000 {
            // 65520 = 65504 + half an ulp: the tie goes to the even neighbour, infinity.
            0x7c00
        } else if abs >= 0x3880_0000 {
            // Normal in f16 (>= 2^-14). Adding 0xfff plus the lowest kept bit rounds the 13
            // dropped bits to nearest even; a carry ripples into the exponent correctly.
            let rounded = abs + 0xfff + ((abs >> 13) & 1);
            ((rounded - ((127 - 15) << 23)) >> 13) as u16
        } else {
            let e = abs >> 23;
            if e < 102 {
                // Below 2^-25: rounds to zero.
                0
            } else {
                // Subnormal in f16: the value in units of 2^-24 is mant * 2^(e - 126).
                let mant = (abs & 0x7f_ffff) | 0x80_0000;
                let shift = 126 - e; // 14..=24
                let kept = mant >> shift;
                let rest = mant & ((1 << shift) - 1);
                let half = 1 << (shift - 1);
                // Rounding up from 0x3ff gives 0x400, the smallest normal: still right.
                (kept + u32::from(rest > half || (rest == half && kept & 1 == 1))) as u16
            }
        };
        F16(sign | bits)
    }
}

impl Bf16 {
    slice_from_bits!(Bf16);

    /// The value with these bits.
    #[inline]
    pub const fn from_bits(bits: u16) -> Bf16 {
        Bf16(bits)
    }

    /// The bits of this value.
    #[inline]
    pub const fn to_bits(self) -> u16 {
        self.0
    }

    /// The exact f32 value (bf16 is the top half of an f32; NaN payloads, signalling or not,
    /// are kept as they are, as the SIMD kernels' shifts keep them).
    #[inline(always)]
    pub fn to_f32(self) -> f32 {
        f32::from_bits((self.0 as u32) << 16)
    }

    /// The nearest bf16 to `x`, ties to even; values that round past the largest finite
    /// bf16 become infinity. A NaN becomes a quiet NaN with the same sign and the top bits of
    /// its payload.
    #[inline]
    pub fn from_f32(x: f32) -> Bf16 {
        let b = x.to_bits();
        if b & 0x7fff_ffff > 0x7f80_0000 {
            return Bf16(((b >> 16) | 0x40) as u16);
        }
        // Round the 16 dropped bits to nearest even; a carry ripples into the exponent (and
        // from the largest finite value into infinity) correctly.
        Bf16(((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16)
    }
}
