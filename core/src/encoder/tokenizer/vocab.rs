//! The vocabulary: every token in one contiguous buffer, found by an open-addressing hash
//! table (no `HashMap` in `no_std`), with no allocation per lookup.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::encoder::Quoted;
use crate::{Error, Result};

/// Tokens in id order, looked up by their bytes.
#[derive(Clone, Debug)]
pub(super) struct Vocab {
    /// All tokens, concatenated in id order.
    bytes: Vec<u8>,
    /// Token `id` is `bytes[offsets[id]..offsets[id + 1]]`.
    offsets: Vec<u32>,
    /// See [`slot_of`]; the length is a power of two, at most half full.
    slots: Vec<u64>,
    /// The longest token, in bytes.
    max_len: usize,
}

/// The hash of the vocabulary: FNV-1a over the bytes (so the states of every prefix of a key
/// come in one pass: WordPiece tries many prefixes of one word), then a 64-bit finalizer.
pub(super) const HASH_START: u64 = 0xCBF2_9CE4_8422_2325;

/// One more byte into a hash state.
#[inline]
pub(super) fn hash_byte(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
}

/// The hash of the bytes that made `h` (MurmurHash3's finalizer: every bit mixed).
#[inline]
pub(super) fn hash_finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The hash of a key.
#[inline]
pub(super) fn hash(key: &[u8]) -> u64 {
    hash_finish(key.iter().fold(HASH_START, |h, &b| hash_byte(h, b)))
}

/// A slot: 0 when empty, else the high 32 bits of the token's hash (compared before the
/// bytes) over `id + 1`.
fn slot_of(h: u64, id: u32) -> u64 {
    (h & 0xFFFF_FFFF_0000_0000) | u64::from(id + 1)
}

impl Vocab {
    /// Builds the vocabulary from tokens in id order (token `i` has id `i`). Refuses an
    /// empty vocabulary, duplicate tokens and more than `u32::MAX` tokens or bytes.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub(super) fn new<S: AsRef<str>>(tokens: &[S]) -> Result<Vocab> {
        if tokens.is_empty() {
            return Err(Error::InvalidArgument("the vocabulary is empty".into()));
        }
        let n = tokens.len();
        if n >= u32::MAX as usize {
            return Err(Error::InvalidArgument(format!(
                "the vocabulary has {n} tokens, more than a u32 id can name"
            )));
        }
        let total: usize = tokens.iter().map(|t| t.as_ref().len()).sum();
        if total > u32::MAX as usize {
            return Err(Error::InvalidArgument(format!(
                "the vocabulary holds {total} bytes of tokens, more than 4 GiB"
            )));
        }
        let mut bytes = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        let mut max_len = 0;
        for t in tokens {
            let t = t.as_ref().as_bytes();
            bytes.extend_from_slice(t);
            offsets.push(bytes.len() as u32);
            max_len = max_len.max(t.len());
        }
        let cap = n
            .checked_mul(2)
            .and_then(usize::checked_next_power_of_two)
            .ok_or_else(|| Error::InvalidArgument(format!("{n} tokens are too many")))?;
        let mut vocab = Vocab {
            bytes,
            offsets,
            slots: vec![0; cap],
            max_len,
        };
        let mask = cap - 1;
        for id in 0..n {
            let key = vocab.token_bytes(id as u32).unwrap_or(&[]);
            let h = hash(key);
            if let Some(other) = vocab.get_hashed(key, h) {
                return Err(Error::InvalidArgument(format!(
                    "duplicate token {} in the vocabulary (ids {other} and {id})",
                    Quoted(core::str::from_utf8(key).unwrap_or("?")),
                )));
            }
            let mut i = h as usize & mask;
            while vocab.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            vocab.slots[i] = slot_of(h, id as u32);
        }
        Ok(vocab)
    }

    /// The number of tokens.
    pub(super) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The longest token, in bytes.
    pub(super) fn max_len(&self) -> usize {
        self.max_len
    }

    fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let id = id as usize;
        let start = *self.offsets.get(id)? as usize;
        let end = *self.offsets.get(id + 1)? as usize;
        self.bytes.get(start..end)
    }

    /// The token with this id.
    pub(super) fn token(&self, id: u32) -> Option<&str> {
        core::str::from_utf8(self.token_bytes(id)?).ok()
    }

    /// The id of this token.
    pub(super) fn get(&self, key: &[u8]) -> Option<u32> {
        self.get_hashed(key, hash(key))
    }

    /// The id of this token, whose [`hash`] is `h`.
    #[inline]
    pub(super) fn get_hashed(&self, key: &[u8], h: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let slot = *self.slots.get(i)?;
            if slot == 0 {
                return None;
            }
            if (slot ^ h) >> 32 == 0 {
                let id = (slot as u32).wrapping_sub(1);
                if self.token_bytes(id) == Some(key) {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_errors() {
        let v = Vocab::new(&["a", "##b", "", "longer token"]).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.get(b"a"), Some(0));
        assert_eq!(v.get(b"##b"), Some(1));
        assert_eq!(v.get(b""), Some(2));
        assert_eq!(v.get(b"b"), None);
        assert_eq!(v.token(3), Some("longer token"));
        assert_eq!(v.token(4), None);
        assert_eq!(v.max_len(), 12);
        assert!(matches!(
            Vocab::new::<&str>(&[]),
            Err(Error::InvalidArgument(_))
        ));
        let e = Vocab::new(&["x", "y", "x"]).unwrap_err();
        assert!(matches!(&e, Error::InvalidArgument(m) if m.contains("duplicate token \"x\"")));
    }
}
