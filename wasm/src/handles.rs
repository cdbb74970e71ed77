//! Generation-checked integer handles for objects that live inside the module.
//!
//! The wasm ABI cannot hand out pointers to Rust objects: a host that keeps using one after
//! freeing it would read reused memory. Instead each object sits in a slot of a
//! [`Registry`] and the host gets a [`Handle`], a `u32` that packs the slot index with the
//! slot's *generation*. Removing an object bumps the generation, so the old handle (and a
//! second free of it) no longer matches: an error, never a use-after-free.
//!
//! # Encoding
//!
//! `handle = generation << 16 | (slot + 1)`, with 16 index bits (at most 65,535 live objects)
//! and 15 generation bits (1..=32,767). Two properties follow:
//!
//! * `0` is never a valid handle (the index part is at least 1), so it can mean "none";
//! * every handle is below 2^31, so an ABI function can return "handle or negative status"
//!   in one `i32`.
//!
//! A slot whose generation would wrap is retired for good instead of reused, so no handle
//! value is ever issued twice: a stale handle can never alias a newer object, no matter how
//! many objects come and go. (Each slot serves 32,767 objects before it retires, so 65,535
//! slots serve over two billion; after that [`Registry::insert`] fails cleanly.)

use alloc::format;
use alloc::vec::Vec;

use ferrovec_core::{Error, Result};

const INDEX_BITS: u32 = 16;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
/// Number of slots (the index part is `slot + 1`, 1..=65,535).
const MAX_SLOTS: usize = INDEX_MASK as usize;
/// Largest generation: 15 bits, so handles stay below 2^31.
const MAX_GENERATION: u32 = (1 << 15) - 1;

/// An opaque reference to an object in a [`Registry`]. Never 0, always below 2^31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(u32);

impl Handle {
    /// The integer that crosses the ABI.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The handle for an integer received over the ABI. Any value is accepted here; whether
    /// it names a live object is decided by the registry.
    pub const fn from_raw(raw: u32) -> Handle {
        Handle(raw)
    }

    fn slot(self) -> usize {
        (self.0 & INDEX_MASK) as usize - 1
    }

    fn generation(self) -> u32 {
        self.0 >> INDEX_BITS
    }

    fn new(slot: usize, generation: u32) -> Handle {
        debug_assert!(slot < MAX_SLOTS && (1..=MAX_GENERATION).contains(&generation));
        Handle(generation << INDEX_BITS | (slot as u32 + 1))
    }
}

struct Slot<T> {
    /// The generation of the current (or, when empty, the next) occupant.
    generation: u32,
    value: Option<T>,
}

/// A table of objects of type `T` addressed by generation-checked [`Handle`]s.
///
/// Lookups are O(1); freed slots are reused (newest first) with a new generation.
pub struct Registry<T> {
    slots: Vec<Slot<T>>,
    /// Empty slots that can take a new object.
    free: Vec<usize>,
    live: usize,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Registry<T> {
    /// An empty registry (allocates nothing until the first insert).
    pub const fn new() -> Self {
        Registry {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no object is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Stores `value` and returns its handle. Fails, dropping nothing and keeping `value`'s
    /// ownership with the error path (the value is returned inside the `Err`), when all
    /// 65,535 slots are live or retired.
    pub fn insert(&mut self, value: T) -> core::result::Result<Handle, (Error, T)> {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None if self.slots.len() < MAX_SLOTS => {
                self.slots.push(Slot {
                    generation: 1,
                    value: None,
                });
                self.slots.len() - 1
            }
            None => {
                let err = Error::InvalidArgument(format!(
                    "too many live objects (the limit is {MAX_SLOTS})"
                ));
                return Err((err, value));
            }
        };
        let entry = &mut self.slots[slot];
        entry.value = Some(value);
        self.live += 1;
        Ok(Handle::new(slot, entry.generation))
    }

    /// The object `handle` names.
    pub fn get(&self, handle: Handle) -> Result<&T> {
        let slot = self.find(handle)?;
        self.slots[slot].value.as_ref().ok_or_else(|| stale(handle))
    }

    /// The object `handle` names, mutably.
    pub fn get_mut(&mut self, handle: Handle) -> Result<&mut T> {
        let slot = self.find(handle)?;
        self.slots[slot].value.as_mut().ok_or_else(|| stale(handle))
    }

    /// Takes the object out; `handle` (and every copy of it) is stale from now on.
    pub fn remove(&mut self, handle: Handle) -> Result<T> {
        let slot = self.find(handle)?;
        let entry = &mut self.slots[slot];
        let value = entry.value.take().ok_or_else(|| stale(handle))?;
        self.live -= 1;
        if entry.generation < MAX_GENERATION {
            entry.generation += 1;
            self.free.push(slot);
        }
        // else: retired; the slot stays empty forever so no handle value repeats.
        Ok(value)
    }

    /// The slot of a handle whose generation matches (the slot may still be empty).
    fn find(&self, handle: Handle) -> Result<usize> {
        // 0 and values without an index part are never handles.
        if handle.0 & INDEX_MASK == 0 {
            return Err(Error::InvalidHandle);
        }
        let slot = handle.slot();
        match self.slots.get(slot) {
            Some(entry) if entry.generation == handle.generation() => Ok(slot),
            _ => Err(Error::InvalidHandle),
        }
    }
}

/// A stale handle (its object was freed), a double free, a forged handle and one never
/// issued are all the same error: [`Error::InvalidHandle`].
fn stale(_: Handle) -> Error {
    Error::InvalidHandle
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn message(err: Error) -> i32 {
        err.code()
    }

    const INVALID_HANDLE: i32 = -14;

    #[test]
    fn insert_get_remove() {
        let mut reg = Registry::new();
        let a = reg.insert("a".to_string()).unwrap();
        let b = reg.insert("b".to_string()).unwrap();
        assert_ne!(a, b);
        assert_eq!(reg.len(), 2);
        assert_eq!(reg.get(a).unwrap(), "a");
        reg.get_mut(b).unwrap().push('!');
        assert_eq!(reg.get(b).unwrap(), "b!");
        assert_eq!(reg.remove(a).unwrap(), "a");
        assert_eq!(reg.len(), 1);
        assert_eq!(reg.get(b).unwrap(), "b!");
    }

    #[test]
    fn stale_and_double_free_are_errors() {
        let mut reg = Registry::new();
        let a = reg.insert(1u8).unwrap();
        reg.remove(a).unwrap();
        assert_eq!(message(reg.get(a).unwrap_err()), INVALID_HANDLE);
        assert_eq!(message(reg.remove(a).unwrap_err()), INVALID_HANDLE);
        assert!(reg.get_mut(a).is_err());
        assert!(reg.is_empty());
    }

    #[test]
    fn reused_slot_gets_a_new_handle_and_old_one_stays_stale() {
        let mut reg = Registry::new();
        let a = reg.insert(1).unwrap();
        reg.remove(a).unwrap();
        let b = reg.insert(2).unwrap();
        assert_eq!(a.slot(), b.slot(), "the freed slot is reused");
        assert_ne!(a, b);
        assert!(reg.get(a).is_err());
        assert!(
            reg.remove(a).is_err(),
            "a stale free must not free the new occupant"
        );
        assert_eq!(*reg.get(b).unwrap(), 2);
    }

    #[test]
    fn invalid_handles_are_errors() {
        let mut reg: Registry<u32> = Registry::new();
        assert_eq!(
            message(reg.get(Handle::from_raw(0)).unwrap_err()),
            INVALID_HANDLE
        );
        assert_eq!(
            message(reg.get(Handle::from_raw(1 << 16)).unwrap_err()),
            INVALID_HANDLE
        );
        assert_eq!(
            message(reg.get(Handle::from_raw(5)).unwrap_err()),
            INVALID_HANDLE
        );
        let h = reg.insert(7).unwrap();
        // Right slot, wrong generation (a forged or corrupted handle).
        let forged = Handle::from_raw(h.raw() + (1 << 16));
        assert!(reg.get(forged).is_err());
        assert!(reg.remove(Handle::from_raw(u32::MAX)).is_err());
        assert_eq!(reg.len(), 1, "failed calls change nothing");
    }

    #[test]
    fn handles_are_nonzero_and_fit_i31() {
        let mut reg = Registry::new();
        let mut seen = Vec::new();
        for i in 0..1000 {
            let h = reg.insert(i).unwrap();
            assert!(h.raw() != 0 && h.raw() < 1 << 31);
            seen.push(h);
            if i % 3 == 0 {
                reg.remove(seen[i / 2]).ok();
            }
        }
    }

    #[test]
    fn a_slot_retires_instead_of_wrapping_its_generation() {
        let mut reg = Registry::new();
        let mut issued = Vec::new();
        for _ in 0..MAX_GENERATION {
            let h = reg.insert(()).unwrap();
            assert_eq!(h.slot(), 0);
            issued.push(h.raw());
            reg.remove(h).unwrap();
        }
        assert_eq!(*issued.last().unwrap() >> INDEX_BITS, MAX_GENERATION);
        // Slot 0 is retired: the next object goes to a fresh slot.
        let next = reg.insert(()).unwrap();
        assert_eq!(next.slot(), 1);
        issued.sort_unstable();
        issued.dedup();
        assert_eq!(
            issued.len(),
            MAX_GENERATION as usize,
            "no handle value repeats"
        );
        // Every old handle of the retired slot stays an error.
        assert!(reg.get(Handle::from_raw(issued[0])).is_err());
        assert!(reg.get(Handle::from_raw(*issued.last().unwrap())).is_err());
    }

    #[test]
    fn full_registry_fails_and_returns_the_value() {
        let mut reg = Registry::new();
        for i in 0..MAX_SLOTS {
            reg.insert(i).unwrap();
        }
        let (err, value) = reg.insert(usize::MAX).unwrap_err();
        assert_eq!(value, usize::MAX);
        assert_eq!(err.code(), -3);
        assert_eq!(reg.len(), MAX_SLOTS);
        // Freeing one makes room again.
        let h = Handle::new(100, 1);
        assert_eq!(reg.remove(h).unwrap(), 100);
        let again = reg.insert(1).unwrap();
        assert_eq!(again.slot(), 100);
        assert_eq!(again.generation(), 2);
    }

    #[test]
    fn drops_owned_objects() {
        use alloc::rc::Rc;
        let tracker = Rc::new(());
        {
            let mut reg = Registry::new();
            let h = reg.insert(Rc::clone(&tracker)).unwrap();
            reg.insert(Rc::clone(&tracker)).unwrap();
            assert_eq!(Rc::strong_count(&tracker), 3);
            drop(reg.remove(h).unwrap());
            assert_eq!(Rc::strong_count(&tracker), 2);
        }
        assert_eq!(
            Rc::strong_count(&tracker),
            1,
            "dropping the registry drops its objects"
        );
    }
}
