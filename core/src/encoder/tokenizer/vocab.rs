//! The vocabulary: every token in one contiguous buffer, found by an open-addressing hash
//! table (no `HashMap` in `no_std`), with no allocation per lookup.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Error, Result};

/// Tokens in id order, looked up by their bytes.
#[derive(Clone, Debug)]
pub(super) struct Vocab {
    /// All tokens, concatenated in id order.
    bytes: Vec<u8>,
    /// Token `id` is `bytes[offsets[id]..offsets[id + 1]]`.
    offsets: Vec<u32>,
    /// `id + 1`, or 0 for an empty slot; the length is a power of two, at most half full.
    slots: Vec<u32>,
    /// The longest token, in bytes.
    max_len: usize,
}

/// A fast hash of a short byte string (8 bytes at a time, multiply and fold).
#[inline]
fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(a)).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut a = [0u8; 8];
        for (d, s) in a.iter_mut().zip(rest) {
            *d = *s;
        }
        h = (h ^ u64::from_le_bytes(a)).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

impl Vocab {
    /// Builds the vocabulary from tokens in id order (token `i` has id `i`). Refuses an
    /// empty vocabulary, duplicate tokens and more than `u32::MAX` tokens or bytes.
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
            let mut i = hash(key) as usize & mask;
            loop {
                let slot = vocab.slots[i];
                if slot == 0 {
                    vocab.slots[i] = id as u32 + 1;
                    break;
                }
                if vocab.token_bytes(slot - 1) == Some(key) {
                    return Err(Error::InvalidArgument(format!(
                        "duplicate token {:?} in the vocabulary (ids {} and {id})",
                        core::str::from_utf8(key).unwrap_or("?"),
                        slot - 1
                    )));
                }
                i = (i + 1) & mask;
            }
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
    #[inline]
    pub(super) fn get(&self, key: &[u8]) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = hash(key) as usize & mask;
        loop {
            let slot = *self.slots.get(i)?;
            if slot == 0 {
                return None;
            }
            if self.token_bytes(slot - 1) == Some(key) {
                return Some(slot - 1);
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
