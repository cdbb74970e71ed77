//! A small open-addressing hash map from node (row) ids to per-node state: the storage of
//! every local method, so their memory grows with the entries they touch, never with `n`.
//!
//! Why not a library map: `no_std` has no `std::collections::HashMap`; `BTreeMap` costs
//! `O(log touched)` pointer-chasing per access on the hot path of a push; hashbrown would be
//! a dependency for what needs ~150 lines here. The keys are `u32` node ids below
//! [`crate::sparse::MAX_DIM`], the maps only grow (an entry whose residual drops to zero
//! stays: it was touched), and every access is get-or-insert, so linear probing with a
//! multiplicative hash is enough: no deletion, no tombstones, no hasher state. The hash
//! and the growth schedule are pure integer arithmetic, so the slot order (and any
//! iteration over it) is the same on every platform.

use alloc::vec::Vec;

use crate::{Error, Result};

/// The slot marker for "empty": never a key, because keys are node ids `< 2^31`.
const EMPTY: u32 = u32::MAX;

/// A map `u32 -> V` with get-or-insert, lookup and iteration in slot order.
#[derive(Debug, Clone)]
pub(crate) struct NodeMap<V> {
    keys: Vec<u32>,
    vals: Vec<V>,
    len: usize,
    /// `log2(keys.len())`; the table size is a power of two (at least 16).
    bits: u32,
}

/// Fibonacci hashing: the top `bits` bits of `key * 2^64 / phi`, which spreads consecutive
/// ids (the common case: neighbors have nearby ids) over the whole table.
fn slot_of(key: u32, bits: u32) -> usize {
    ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
}

impl<V: Copy + Default> NodeMap<V> {
    /// An empty map with room for about `expected` entries before it grows.
    pub(crate) fn with_capacity(expected: usize) -> Result<NodeMap<V>> {
        // Load factor at most 1/2: size >= 2 * expected, a power of two, at least 16.
        let want = expected.saturating_mul(2).max(16);
        let size = want.checked_next_power_of_two().ok_or_else(oom)?;
        let mut map = NodeMap {
            keys: Vec::new(),
            vals: Vec::new(),
            len: 0,
            bits: size.trailing_zeros(),
        };
        map.keys.try_reserve_exact(size).map_err(|_| oom())?;
        map.vals.try_reserve_exact(size).map_err(|_| oom())?;
        map.keys.resize(size, EMPTY);
        map.vals.resize(size, V::default());
        Ok(map)
    }

    /// Number of entries (the nodes touched).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the table.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() * core::mem::size_of::<u32>()
            + self.vals.capacity() * core::mem::size_of::<V>()
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn find(&self, key: u32) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = slot_of(key, self.bits);
        // Terminates: the load factor stays <= 1/2, so an empty slot exists.
        loop {
            match self.keys.get(i) {
                Some(&k) if k == key || k == EMPTY => return i,
                Some(_) => i = (i + 1) & mask,
                None => return i & mask,
            }
        }
    }

    /// The value stored for `key`, if any.
    pub(crate) fn get(&self, key: u32) -> Option<&V> {
        let i = self.find(key);
        match self.keys.get(i) {
            Some(&k) if k == key => self.vals.get(i),
            _ => None,
        }
    }

    /// The value for `key`, inserting `V::default()` first if absent.
    /// [`Error::OutOfMemory`] if the table must grow and cannot; the map is unchanged then.
    pub(crate) fn entry(&mut self, key: u32) -> Result<&mut V> {
        if key == EMPTY {
            return Err(Error::Internal(alloc::format!(
                "node map: key {key} is reserved"
            )));
        }
        let mut i = self.find(key);
        if self.keys.get(i) != Some(&key) {
            if (self.len + 1) * 2 > self.keys.len() {
                self.grow()?;
                i = self.find(key);
            }
            match self.keys.get_mut(i) {
                Some(k) => *k = key,
                None => return Err(Error::Internal("node map: slot out of range".into())),
            }
            self.len += 1;
        }
        self.vals
            .get_mut(i)
            .ok_or_else(|| Error::Internal("node map: slot out of range".into()))
    }

    /// Doubles the table. Allocates the new table first, so on failure nothing changed.
    fn grow(&mut self) -> Result<()> {
        let size = self.keys.len().checked_mul(2).ok_or_else(oom)?;
        let mut keys: Vec<u32> = Vec::new();
        let mut vals: Vec<V> = Vec::new();
        keys.try_reserve_exact(size).map_err(|_| oom())?;
        vals.try_reserve_exact(size).map_err(|_| oom())?;
        keys.resize(size, EMPTY);
        vals.resize(size, V::default());
        let bits = size.trailing_zeros();
        let mask = size - 1;
        for (&k, &v) in self.keys.iter().zip(&self.vals) {
            if k == EMPTY {
                continue;
            }
            let mut i = slot_of(k, bits);
            while keys.get(i).is_some_and(|&s| s != EMPTY) {
                i = (i + 1) & mask;
            }
            if let (Some(ks), Some(vs)) = (keys.get_mut(i), vals.get_mut(i)) {
                *ks = k;
                *vs = v;
            }
        }
        self.keys = keys;
        self.vals = vals;
        self.bits = bits;
        Ok(())
    }

    /// Every `(key, value)`, in slot order (deterministic for a given insertion sequence).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &V)> + '_ {
        self.keys
            .iter()
            .zip(&self.vals)
            .filter(|(k, _)| **k != EMPTY)
            .map(|(k, v)| (*k, v))
    }
}

fn oom() -> Error {
    Error::OutOfMemory("could not grow a local method's node map".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_finds_and_grows() {
        let mut m: NodeMap<f64> = NodeMap::with_capacity(0).unwrap();
        // Sequential and scattered keys, well past several doublings.
        for k in 0..5000u32 {
            let key = k.wrapping_mul(2_654_435_761) % (i32::MAX as u32);
            *m.entry(key).unwrap() += key as f64;
        }
        assert_eq!(m.len(), 5000);
        for k in 0..5000u32 {
            let key = k.wrapping_mul(2_654_435_761) % (i32::MAX as u32);
            assert_eq!(m.get(key), Some(&(key as f64)));
        }
        assert_eq!(m.get(7), None);
        // Re-entering an existing key does not add an entry.
        *m.entry(0).unwrap() += 1.0;
        assert_eq!(m.len(), 5000);
        assert_eq!(m.iter().count(), 5000);
        // Load factor <= 1/2 and table a power of two: at most 4x the entries (x 12 bytes).
        assert!(m.heap_bytes() <= 4 * 5000 * 12, "{}", m.heap_bytes());
        assert!(m.entry(u32::MAX).is_err());
    }
}
