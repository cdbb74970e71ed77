//! Little-endian `f32` vectors carried in byte buffers.

use std::borrow::Cow;

use ferrovec_core::Error;

/// Views `bytes` as little-endian `f32`s: borrowed when the buffer is 4-byte aligned on a
/// little-endian machine (the usual case: UniFFI buffers are heap allocations), copied
/// otherwise.
///
/// Fails with `InvalidArgument` naming `arg` if the length is not a multiple of 4.
pub(crate) fn f32s_from_le_bytes<'a>(bytes: &'a [u8], arg: &str) -> Result<Cow<'a, [f32]>, Error> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Error::InvalidArgument(format!(
            "`{arg}` must hold little-endian f32 values (a multiple of 4 bytes), got {} bytes",
            bytes.len()
        )));
    }
    if cfg!(target_endian = "little") && bytes.as_ptr().cast::<f32>().is_aligned() {
        // SAFETY: the pointer is aligned for f32 (checked), the region is `bytes.len()`
        // initialised bytes borrowed for 'a, every bit pattern is a valid f32, and on a
        // little-endian target the in-memory layout is the little-endian encoding.
        let floats =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) };
        return Ok(Cow::Borrowed(floats));
    }
    Ok(Cow::Owned(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    ))
}

/// Encodes `values` as little-endian bytes.
pub(crate) fn f32s_to_le_bytes(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Views `bytes` as little-endian `u64`s (keys): borrowed when 8-byte aligned on a
/// little-endian machine, copied otherwise.
///
/// Fails with `InvalidArgument` naming `arg` if the length is not a multiple of 8.
pub(crate) fn u64s_from_le_bytes<'a>(bytes: &'a [u8], arg: &str) -> Result<Cow<'a, [u64]>, Error> {
    if !bytes.len().is_multiple_of(8) {
        return Err(Error::InvalidArgument(format!(
            "`{arg}` must hold little-endian u64 keys (a multiple of 8 bytes), got {} bytes",
            bytes.len()
        )));
    }
    if cfg!(target_endian = "little") && bytes.as_ptr().cast::<u64>().is_aligned() {
        // SAFETY: the pointer is aligned for u64 (checked), the region is `bytes.len()`
        // initialised bytes borrowed for 'a, every bit pattern is a valid u64, and on a
        // little-endian target the in-memory layout is the little-endian encoding.
        let keys =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<u64>(), bytes.len() / 8) };
        return Ok(Cow::Borrowed(keys));
    }
    Ok(Cow::Owned(
        bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
    ))
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
    fn i8_view_keeps_twos_complement() {
        assert_eq!(i8s_from_bytes(&[0xff, 0x80, 0x7f]), &[-1i8, -128, 127]);
    }
}
