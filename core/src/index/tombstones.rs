//! Which slots were removed (or replaced): one bit per slot, where a `Vec<bool>` took a byte
//! (issue 15 compares an i8 index's memory per vector with faiss HNSWSQ8's). Bit `i % 64` of
//! word `i / 64`, so byte `i / 8` of the little-endian words is the file format's bitmap byte.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tombstones {
    words: Vec<u64>,
    /// Slots covered; the bits past it in the last word are 0.
    len: usize,
    removed: usize,
}

impl Tombstones {
    /// Slots covered (removed or not).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Removed slots.
    pub(crate) fn removed(&self) -> usize {
        self.removed
    }

    /// Heap bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.words.capacity() * core::mem::size_of::<u64>()
    }

    /// Room for `additional` more slots; on failure nothing changes.
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let words = self.len.saturating_add(additional).div_ceil(64);
        self.words
            .try_reserve(words.saturating_sub(self.words.len()))
    }

    /// Appends a slot.
    pub(crate) fn push(&mut self, removed: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        if removed {
            self.remove(self.len - 1);
        }
    }

    /// Marks `slot` removed (again is a no-op).
    pub(crate) fn remove(&mut self, slot: usize) {
        debug_assert!(slot < self.len);
        let word = &mut self.words[slot / 64];
        let bit = 1u64 << (slot % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.removed += 1;
        }
    }

    #[inline(always)]
    pub(crate) fn is_removed(&self, slot: usize) -> bool {
        (self.words[slot / 64] >> (slot % 64)) & 1 == 1
    }

    /// Byte `i` of the bitmap (slots `8i..8i + 8`, LSB first), for `i < len.div_ceil(8)`.
    pub(crate) fn bitmap_byte(&self, i: usize) -> u8 {
        (self.words[i / 8] >> (8 * (i % 8))) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_bytes_and_counts_match_a_bool_vector() {
        let flags: Vec<bool> = (0..203u32).map(|i| i % 7 == 3 || i % 64 == 63).collect();
        let mut t = Tombstones::default();
        t.try_reserve(flags.len()).unwrap();
        let cap = t.words.capacity();
        for &f in &flags {
            t.push(f);
        }
        assert_eq!(
            t.words.capacity(),
            cap,
            "push after try_reserve reallocated"
        );
        assert_eq!(t.len(), 203);
        assert_eq!(t.removed(), flags.iter().filter(|&&f| f).count());
        for (i, &f) in flags.iter().enumerate() {
            assert_eq!(t.is_removed(i), f, "slot {i}");
        }
        for (i, chunk) in flags.chunks(8).enumerate() {
            let byte = chunk
                .iter()
                .enumerate()
                .fold(0u8, |b, (j, &f)| b | (f as u8) << j);
            assert_eq!(t.bitmap_byte(i), byte, "byte {i}");
        }
        t.remove(0);
        t.remove(0);
        assert!(t.is_removed(0));
        assert_eq!(t.removed(), flags.iter().filter(|&&f| f).count() + 1);
    }
}
