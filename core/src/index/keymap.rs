//! The key -> slot map of an index: an open-addressing hash table (linear probing) of slot
//! numbers only. A key is read from the index's slot -> key array when a probe meets its
//! slot, so a live key costs 4.6 bytes here after a batch add (up to 9.1 while growing one
//! key at a time), where a `BTreeMap<u64, u32>` took about 22 (issue 15: an i8 index's
//! memory per vector is compared with faiss HNSWSQ8's, which keeps no keys at all). The
//! table length is not a power of two: a key's home is `hash * len >> 64` (Lemire's
//! multiply-shift range reduction), so a reservation sizes the table exactly.
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
    /// At most 7/8 full: [`EMPTY`] or a slot, each slot at its key's home position or after
    /// it (cyclically) with no empty entry between.
    table: Vec<u32>,
    len: usize,
}

/// The keys a table of `cap` entries holds: 7/8 of it keeps a missing key's probe sequence
/// short (about 32 entries at the most, 2.3 at half full) at 4.6 bytes per key.
fn max_len(cap: usize) -> usize {
    cap - cap.div_ceil(8)
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
        ((mix64(key) as u128 * self.table.len() as u128) >> 64) as usize
    }

    /// The entry after `i`, cyclically.
    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.table.len() {
            0
        } else {
            i + 1
        }
    }

    /// How many steps after `from` entry `to` is, cyclically.
    #[inline]
    fn steps(&self, from: usize, to: usize) -> usize {
        if to >= from {
            to - from
        } else {
            to + self.table.len() - from
        }
    }

    /// The entry holding `key`'s slot (`Ok`), or the empty entry where it would go (`Err`).
    /// The table must not be empty.
    #[inline]
    fn find(&self, keys: &[u64], key: u64) -> Result<usize, usize> {
        let mut i = self.home(key);
        loop {
            let slot = self.table[i];
            if slot == EMPTY {
                return Err(i);
            }
            if keys[slot as usize] == key {
                return Ok(i);
            }
            i = self.next(i);
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

    /// The table length for `need` keys: the smallest that holds them, and at least twice the
    /// current one, so that growing one key at a time rehashes O(log n) times (`Vec`'s rule).
    fn capacity_for(&self, need: usize) -> usize {
        let exact = need.saturating_add(need.div_ceil(7)).max(8);
        let mut cap = exact.max(self.table.len().saturating_mul(2));
        while max_len(cap) < need {
            cap += 1;
        }
        cap
    }

    /// Moves every slot into `table` (all [`EMPTY`], long enough to hold them).
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
        let mut i = hole;
        loop {
            i = self.next(i);
            let s = self.table[i];
            if s == EMPTY {
                break;
            }
            // `s` may fill the hole if the hole is not before its home in the probe order.
            let home = self.home(keys[s as usize]);
            if self.steps(home, i) >= self.steps(hole, i) {
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
            for (i, &s) in map.table.iter().enumerate() {
                if s != EMPTY {
                    let mut j = map.home(keys[s as usize]);
                    while j != i {
                        assert_ne!(map.table[j], EMPTY, "gap before entry {i}");
                        j = map.next(j);
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
        // Sized exactly: 1,000 keys at most 7/8 full.
        assert_eq!(cap, 1_143);
        assert_eq!(max_len(cap), 1_000);
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
