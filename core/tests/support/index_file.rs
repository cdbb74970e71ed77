//! Reading and editing index files by hand in tests: an independent CRC-32C, resealing
//! the checksum after an edit, and little-endian fields at byte offsets.

/// Bit-at-a-time CRC-32C: an implementation independent of the one in core.
pub fn crc32c(data: &[u8]) -> u32 {
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

/// Rewrites the trailing checksum after an edit.
pub fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let sum = crc32c(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum.to_le_bytes());
}

pub fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

pub fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn set_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
