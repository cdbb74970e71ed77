//! The bodies of ferrovec's fuzz targets, one public function per target. The libFuzzer
//! binaries in `fuzz_targets/` call them (nightly, `make fuzz`), and `tests/replay.rs` calls
//! them on every committed corpus file and crash reproducer (stable, `make test`).
//!
//! Every body panics (so libFuzzer reports a crash) when ferrovec breaks one of its
//! contracts on the input: a host crash, a panic, a result outside the documented error set,
//! a difference between the native and the interpreted backend, a broken invariant of a
//! parsed value.

mod capi;
mod encoder;
mod input;
mod sparse;
mod wasm;

pub use capi::capi;
pub use encoder::{encoder_files, tokenizer, tokenizer_json};
pub use sparse::{csr, matrix_market};
pub use wasm::{index_load, module_loader, wasm_abi};

/// CRC-32C (Castagnoli, reflected 0x82F63B78), bit by bit: the index file's checksum,
/// written independently of the loader's table and SSE 4.2 versions.
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

/// `bytes` with its last four bytes replaced by the CRC-32C of the rest, so a mutated index
/// file gets past the checksum to the validation behind it.
pub fn reseal(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.len() >= 4 {
        let n = out.len() - 4;
        let sum = crc32c(&out[..n]);
        out[n..].copy_from_slice(&sum.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_published_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn reseal_fixes_the_trailing_checksum() {
        let sealed = reseal(b"abcdefgh\0\0\0\0");
        assert_eq!(&sealed[8..], &crc32c(b"abcdefgh").to_le_bytes());
        assert_eq!(reseal(b"abc"), b"abc");
    }
}
