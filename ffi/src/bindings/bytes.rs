//! Little-endian vectors (`f32`, `f64`, `u32`, `u64`) carried in byte buffers.

use std::borrow::Cow;

use ferrovec_core::Error;

/// A plain number type carried as little-endian bytes: every bit pattern is a valid value.
pub(crate) trait LeNumber: Copy + 'static {
    /// Bytes per value.
    const SIZE: usize;
    /// How error messages call a buffer of these, e.g. "f32 values".
    const WHAT: &'static str;
    /// The value of `SIZE` little-endian bytes.
    fn from_le(chunk: &[u8]) -> Self;
    /// Appends the little-endian bytes of `self`.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! le_number {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl LeNumber for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            const WHAT: &'static str = $what;
            fn from_le(chunk: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(chunk);
                <$t>::from_le_bytes(raw)
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

le_number!(f32 => "f32 values", f64 => "f64 values", u32 => "u32 values", u64 => "u64 keys");

/// Views `bytes` as little-endian `T`s: borrowed when the buffer is aligned for `T` on a
/// little-endian machine (the usual case: UniFFI buffers are heap allocations, numpy arrays
/// are aligned), copied otherwise.
///
/// Fails with `InvalidArgument` naming `arg` if the length is not a multiple of `T`'s size.
pub(crate) fn le_slice<'a, T: LeNumber>(bytes: &'a [u8], arg: &str) -> Result<Cow<'a, [T]>, Error> {
    if !bytes.len().is_multiple_of(T::SIZE) {
        return Err(Error::InvalidArgument(format!(
            "`{arg}` must hold little-endian {} (a multiple of {} bytes), got {} bytes",
            T::WHAT,
            T::SIZE,
            bytes.len()
        )));
    }
    if cfg!(target_endian = "little") && bytes.as_ptr().cast::<T>().is_aligned() {
        // SAFETY: the pointer is aligned for T (checked), the region is `bytes.len()`
        // initialised bytes borrowed for 'a, every bit pattern is a valid T (LeNumber is
        // implemented for plain integers and floats only), and on a little-endian target the
        // in-memory layout is the little-endian encoding.
        let values = unsafe {
            std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), bytes.len() / T::SIZE)
        };
        return Ok(Cow::Borrowed(values));
    }
    Ok(Cow::Owned(
        bytes.chunks_exact(T::SIZE).map(T::from_le).collect(),
    ))
}

/// Encodes `values` as little-endian bytes.
pub(crate) fn le_bytes<T: LeNumber>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * T::SIZE);
    for &v in values {
        v.put_le(&mut out);
    }
    out
}

/// Views `bytes` as little-endian `f32`s (see [`le_slice`]).
pub(crate) fn f32s_from_le_bytes<'a>(bytes: &'a [u8], arg: &str) -> Result<Cow<'a, [f32]>, Error> {
    le_slice(bytes, arg)
}

/// Encodes `values` as little-endian bytes.
pub(crate) fn f32s_to_le_bytes(values: &[f32]) -> Vec<u8> {
    le_bytes(values)
}

/// Views `bytes` as little-endian `u64`s (keys; see [`le_slice`]).
pub(crate) fn u64s_from_le_bytes<'a>(bytes: &'a [u8], arg: &str) -> Result<Cow<'a, [u64]>, Error> {
    le_slice(bytes, arg)
}

/// Views bytes as `i8`s (same size and alignment, every bit pattern valid).
pub(crate) fn i8s_from_bytes(bytes: &[u8]) -> &[i8] {
    // SAFETY: u8 and i8 have the same size and alignment and every bit pattern is valid for
    // both; the borrow keeps the lifetime of `bytes`.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_aligned_and_unaligned() {
        let values = [1.5f32, -0.0, f32::INFINITY, 3.25e-7];
        let bytes = f32s_to_le_bytes(&values);
        assert_eq!(&*f32s_from_le_bytes(&bytes, "x").unwrap(), &values);
        // Same data one byte into a buffer: must be decoded by copy, identically.
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        let decoded = f32s_from_le_bytes(&shifted[1..], "x").unwrap();
        assert_eq!(
            decoded.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rejects_partial_floats() {
        let err = f32s_from_le_bytes(&[0u8; 7], "query").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m) if m.contains("`query`")));
    }

    #[test]
    fn keys_aligned_unaligned_and_partial() {
        let keys = [1u64, u64::MAX, 0x0102_0304_0506_0708];
        let bytes: Vec<u8> = keys.iter().flat_map(|k| k.to_le_bytes()).collect();
        assert_eq!(&*u64s_from_le_bytes(&bytes, "keys").unwrap(), &keys);
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        assert_eq!(&*u64s_from_le_bytes(&shifted[1..], "keys").unwrap(), &keys);
        let err = u64s_from_le_bytes(&[0u8; 9], "keys").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m) if m.contains("`keys`")));
    }

    #[test]
    fn f64_and_u32_aligned_unaligned_and_partial() {
        let values = [1.0f64, -2.5e-300, f64::NAN, f64::MAX];
        let bytes = le_bytes(&values);
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        for buf in [&bytes[..], &shifted[1..]] {
            let decoded = le_slice::<f64>(buf, "b").unwrap();
            assert_eq!(
                decoded.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
        let idx = [0u32, 7, u32::MAX];
        assert_eq!(&*le_slice::<u32>(&le_bytes(&idx), "i").unwrap(), &idx);
        let err = le_slice::<f64>(&[0u8; 12], "values").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m)
            if m.contains("`values`") && m.contains("f64") && m.contains("12 bytes")));
    }

    #[test]
    fn i8_view_keeps_twos_complement() {
        assert_eq!(i8s_from_bytes(&[0xff, 0x80, 0x7f]), &[-1i8, -128, 127]);
    }
}
