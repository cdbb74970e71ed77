//! The key -> slot map of an index: an open-addressing hash table (linear probing) of slot
//! numbers only. A key is read from the index's slot -> key array when a probe meets its
//! slot, so a live key costs 4.6-9.1 bytes here, where a `BTreeMap<u64, u32>` took about
//! 22 (issue 15: an i8 index's memory per vector is compared with faiss HNSWSQ8's, which
//! keeps no keys at all).
//!
//! Not the solver's `NodeMap`: that one stores its keys (u32 node ids) and never deletes,
//! where here the keys already live in the slot -> key array and removal is common.
//!
//! Keys come from the application, not from an attacker who sees the table, so the hash is
//! fixed (the splitmix64 finalizer, a bijection that spreads sequential keys): no random
//! state in a `no_std` core, and the same keys give the same table on every platform.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

/// An empty table entry. No slot has this number (`MAX_SLOTS` is `u32::MAX - 1`).
const EMPTY: u32 = u32::MAX;

/// The splitmix64 finalizer: a bijection of `u64` whose every output bit depends on every
/// input bit.
#[inline]
pub(crate) fn mix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Live keys -> slots. Every method takes the index's slot -> key array, `keys`, in which
/// `keys[slot]` is the key of every slot the map holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyMap {
    /// Length 0 or a power of two, at most 7/8 full: [`EMPTY`] or a slot, each slot at its
    /// key's home position or after it with no empty entry between.
    table: Vec<u32>,
    len: usize,
}

/// The keys a table of `cap` entries holds: 7/8 of it keeps a missing key's probe sequence
/// short (about 32 entries at the most, 2.3 at half full) at 4.6-9.1 bytes per key.
fn max_len(cap: usize) -> usize {
    cap / 8 * 7
}

impl KeyMap {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes of the table.
    pub(crate) fn bytes(&self) -> usize {
        self.table.capacity() * core::mem::size_of::<u32>()
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        mix64(key) as usize & (self.table.len() - 1)
    }

    /// The entry holding `key`'s slot (`Ok`), or the empty entry where it would go (`Err`).
    /// The table must not be empty.
    #[inline]
    fn find(&self, keys: &[u64], key: u64) -> Result<usize, usize> {
        let mask = self.table.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = self.table[i];
            if slot == EMPTY {
                return Err(i);
            }
            if keys[slot as usize] == key {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `key`, if it is live.
    #[inline]
    pub(crate) fn get(&self, keys: &[u64], key: u64) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        self.find(keys, key).ok().map(|i| self.table[i])
    }

    pub(crate) fn contains(&self, keys: &[u64], key: u64) -> bool {
        self.get(keys, key).is_some()
    }

    /// The table length that holds `need` keys: a power of two, at least 8.
    fn capacity_for(&self, need: usize) -> usize {
        let mut cap = self.table.len().max(8);
        while max_len(cap) < need {
            cap = cap.saturating_mul(2);
        }
        cap
    }

    /// Moves every slot into `table` (all [`EMPTY`], a power of two that holds them).
    fn rehash(&mut self, keys: &[u64], table: Vec<u32>) {
        let old = core::mem::replace(&mut self.table, table);
        for slot in old.into_iter().filter(|&s| s != EMPTY) {
            if let Err(i) = self.find(keys, keys[slot as usize]) {
                self.table[i] = slot;
            }
        }
    }

    /// Room for `additional` more keys, so that [`insert`](Self::insert) does not allocate;
    /// on failure nothing changes.
    pub(crate) fn try_reserve(
        &mut self,
        keys: &[u64],
        additional: usize,
    ) -> Result<(), TryReserveError> {
        let need = self.len.saturating_add(additional);
        if need <= max_len(self.table.len()) {
            return Ok(());
        }
        let cap = self.capacity_for(need);
        let mut table = Vec::new();
        table.try_reserve_exact(cap)?;
        table.resize(cap, EMPTY);
        self.rehash(keys, table);
        Ok(())
    }

    /// Maps `keys[slot]` to `slot` and returns the slot the key had, if it was live.
    pub(crate) fn insert(&mut self, keys: &[u64], slot: u32) -> Option<u32> {
        let key = keys[slot as usize];
        if !self.table.is_empty() {
            if let Ok(i) = self.find(keys, key) {
                return Some(core::mem::replace(&mut self.table[i], slot));
            }
        }
        if self.len >= max_len(self.table.len()) {
            // Callers reserve first; growing here keeps a missed reservation correct (out of
            // memory aborts, as in `Vec::push`).
            let cap = self.capacity_for(self.len + 1);
            self.rehash(keys, alloc::vec![EMPTY; cap]);
        }
        if let Err(i) = self.find(keys, key) {
            self.table[i] = slot;
            self.len += 1;
        }
        None
    }

    /// Unmaps `key` and returns its slot, if it was live. Later entries of its probe run
    /// move back into the gap (no tombstones), so lookups stay as short as after inserts.
    pub(crate) fn remove(&mut self, keys: &[u64], key: u64) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let mut hole = self.find(keys, key).ok()?;
        let slot = self.table[hole];
        let mask = self.table.len() - 1;
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let s = self.table[i];
            if s == EMPTY {
                break;
            }
            // `s` may fill the hole if the hole is not before its home in the probe order.
            let home = self.home(keys[s as usize]);
            if i.wrapping_sub(home) & mask >= i.wrapping_sub(hole) & mask {
                self.table[hole] = s;
                hole = i;
            }
        }
        self.table[hole] = EMPTY;
        self.len -= 1;
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    /// Random inserts, replacements and removals, checked against a `BTreeMap` after every
    /// step, with keys drawn from a small range so probe runs collide and wrap.
    #[test]
    fn matches_btreemap_under_churn() {
        for (range, steps) in [(40u64, 3_000usize), (5_000, 20_000)] {
            let mut state = 0x1234_5678_u64 ^ range;
            let mut next = || {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                mix64(state)
            };
            let mut keys: Vec<u64> = Vec::new();
            let mut map = KeyMap::default();
            let mut reference = BTreeMap::new();
            for _ in 0..steps {
                let key = next() % range;
                if next() % 3 == 0 {
                    assert_eq!(map.remove(&keys, key), reference.remove(&key));
                } else {
                    let slot = keys.len() as u32;
                    keys.push(key);
                    assert_eq!(map.insert(&keys, slot), reference.insert(key, slot));
                }
                assert_eq!(map.len(), reference.len());
                assert!(map.len() <= max_len(map.table.len()));
            }
            for key in 0..range {
                assert_eq!(
                    map.get(&keys, key),
                    reference.get(&key).copied(),
                    "key {key}"
                );
            }
            // Every stored slot sits in its key's probe run: no empty entry between its
            // home and it (what `find` relies on).
            let mask = map.table.len() - 1;
            for (i, &s) in map.table.iter().enumerate() {
                if s != EMPTY {
                    let mut j = map.home(keys[s as usize]);
                    while j != i {
                        assert_ne!(map.table[j], EMPTY, "gap before entry {i}");
                        j = (j + 1) & mask;
                    }
                }
            }
        }
    }

    #[test]
    fn reserve_then_insert_does_not_grow() {
        let keys: Vec<u64> = (0..1_000u64).map(|k| k * 1_000_003).collect();
        let mut map = KeyMap::default();
        map.try_reserve(&keys, keys.len()).unwrap();
        let cap = map.table.len();
        assert_eq!(cap, 2_048);
        for slot in 0..keys.len() as u32 {
            assert_eq!(map.insert(&keys, slot), None);
        }
        assert_eq!(map.table.len(), cap);
        assert_eq!(map.bytes(), cap * 4);
        assert!(keys.iter().all(|&k| map.contains(&keys, k)));
        assert!(!map.contains(&keys, 7));
    }

    #[test]
    fn empty_map_finds_nothing() {
        let map = KeyMap::default();
        assert_eq!(map.get(&[], 0), None);
        let mut map = map;
        assert_eq!(map.remove(&[], 0), None);
        assert_eq!(map.bytes(), 0);
    }
}
