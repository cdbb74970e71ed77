//! Turning ABI offsets into slices, after checking everything a host can get wrong.
//!
//! Every pointer in the ABI is a `u32` byte offset into the module's linear memory. Before a
//! kernel sees a buffer, [`Memory::slice`] checks, in this order:
//!
//! 1. offset 0 ("null") with a non-zero length → [`Error::NullPointer`];
//! 2. the element count times the element size overflowing, or the end of the range
//!    (`offset + bytes`) overflowing or lying past the current memory size →
//!    [`Error::InvalidArgument`];
//! 3. misalignment: f32 buffers must be 4-byte aligned → [`Error::InvalidArgument`]. (A wasm
//!    load could read them unaligned, but a Rust `&[f32]` must be aligned, and the C ABI
//!    rejects misaligned floats too; `fv_alloc` always returns 16-byte aligned blocks.)
//!
//! A zero-length buffer is accepted at any offset, in bounds or not, and never read.
//!
//! What cannot be checked: that the range was obtained from `fv_alloc` (any in-bounds bytes
//! are the host's to name, including the module's own stack and data; pointing a kernel at
//! them gives meaningless numbers but cannot escape the sandbox).

use alloc::format;

use ferrovec_core::{Error, Result};

/// Linear memory as the ABI functions see it: the real one on wasm32
/// ([`WasmMemory`]), a buffer in native unit tests.
pub trait Memory {
    /// Current size in bytes.
    fn size(&self) -> u64;

    /// Pointer to the byte at `offset` (`offset <= size`), usable for every in-bounds byte.
    fn at(&self, offset: u32) -> *mut u8;

    /// Checks that `count` elements of `T` at `offset` lie in memory and are aligned (see
    /// the module docs), and returns their byte range.
    fn region<T>(&self, offset: u32, count: u32, arg: &'static str) -> Result<Region> {
        if count == 0 {
            return Ok(Region { offset, bytes: 0 });
        }
        if offset == 0 {
            return Err(Error::NullPointer { arg });
        }
        let bytes = u64::from(count) * core::mem::size_of::<T>() as u64;
        let end = u64::from(offset) + bytes;
        if end > self.size() {
            return Err(Error::InvalidArgument(format!(
                "`{arg}` ({count} x {} bytes at offset {offset}) reaches past the end of linear \
                 memory ({} bytes)",
                core::mem::size_of::<T>(),
                self.size()
            )));
        }
        let align = core::mem::align_of::<T>() as u32;
        if !offset.is_multiple_of(align) {
            return Err(Error::InvalidArgument(format!(
                "`{arg}` at offset {offset} is not aligned to {align} bytes"
            )));
        }
        // `end <= size <= 4 GiB` and memory sizes are whole 64 KiB pages, so `bytes` fits.
        Ok(Region {
            offset,
            bytes: bytes as u32,
        })
    }

    /// Borrows a checked region as a slice.
    ///
    /// # Safety
    /// `region` must come from `self.region::<T>()`, and nothing may write the bytes while
    /// the slice lives (the module is single-threaded and the host does not run during a
    /// call, so this holds for the duration of one ABI call).
    unsafe fn slice<T>(&self, region: Region) -> &[T] {
        if region.bytes == 0 {
            return &[];
        }
        let ptr = self.at(region.offset).cast::<T>();
        let len = region.bytes as usize / core::mem::size_of::<T>();
        // SAFETY: in bounds and aligned (checked by `region`), memory is initialised bytes
        // and `T` is a plain number type valid for every bit pattern; no writer, per the
        // caller's contract.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }

    /// Mutable counterpart of [`Memory::slice`].
    ///
    /// # Safety
    /// As for [`Memory::slice`], plus nothing else may read or write the bytes while the
    /// slice lives (check [`Region::overlaps`] against every input first).
    #[allow(clippy::mut_from_ref)] // the memory is shared by design; exclusivity is the contract
    unsafe fn slice_mut<T>(&self, region: Region) -> &mut [T] {
        if region.bytes == 0 {
            return &mut [];
        }
        let ptr = self.at(region.offset).cast::<T>();
        let len = region.bytes as usize / core::mem::size_of::<T>();
        // SAFETY: as in `slice`, plus exclusivity from the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// A checked, in-bounds, aligned byte range of linear memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    offset: u32,
    bytes: u32,
}

impl Region {
    /// Whether two ranges share a byte (empty ranges overlap nothing).
    pub fn overlaps(self, other: Region) -> bool {
        let (a0, a1) = (
            u64::from(self.offset),
            u64::from(self.offset) + u64::from(self.bytes),
        );
        let (b0, b1) = (
            u64::from(other.offset),
            u64::from(other.offset) + u64::from(other.bytes),
        );
        self.bytes != 0 && other.bytes != 0 && a0 < b1 && b0 < a1
    }
}

/// Fails if `out` shares a byte with `input` (an output must not alias an input).
pub fn check_disjoint(out: Region, out_name: &str, input: Region, in_name: &str) -> Result<()> {
    if out.overlaps(input) {
        return Err(Error::InvalidArgument(format!(
            "`{out_name}` overlaps `{in_name}`"
        )));
    }
    Ok(())
}

/// The module's own linear memory (memory index 0).
#[cfg(target_arch = "wasm32")]
pub struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Memory for WasmMemory {
    fn size(&self) -> u64 {
        core::arch::wasm32::memory_size::<0>() as u64 * 65536
    }

    fn at(&self, offset: u32) -> *mut u8 {
        // Linear memory starts at address 0 and every address below `size` is valid, so an
        // offset *is* the address.
        core::ptr::with_exposed_provenance_mut(offset as usize)
    }
}

/// A heap buffer standing in for linear memory in native tests. Offsets count from its
/// start (so offset 0 is still "null").
#[cfg(test)]
pub struct TestMemory {
    words: alloc::boxed::Box<[core::cell::Cell<u64>]>,
}

#[cfg(test)]
impl TestMemory {
    /// `bytes` zeroed bytes (rounded up to 8), 8-byte aligned.
    pub fn new(bytes: usize) -> TestMemory {
        TestMemory {
            words: (0..bytes.div_ceil(8)).map(|_| Default::default()).collect(),
        }
    }

    /// Copies `values` to `offset` (no checks: a test helper).
    pub fn write<T: Copy>(&self, offset: u32, values: &[T]) {
        let dst = self.at(offset).cast::<T>();
        assert!(offset as usize + core::mem::size_of_val(values) <= self.size() as usize);
        // SAFETY: in bounds (asserted), `write_unaligned` needs no alignment, and the Cells
        // make writing through a shared reference fine.
        for (i, v) in values.iter().enumerate() {
            unsafe { dst.add(i).write_unaligned(*v) };
        }
    }

    /// Reads `n` values at `offset`.
    pub fn read<T: Copy>(&self, offset: u32, n: usize) -> alloc::vec::Vec<T> {
        let src = self.at(offset).cast::<T>();
        assert!(offset as usize + n * core::mem::size_of::<T>() <= self.size() as usize);
        // SAFETY: in bounds (asserted); unaligned reads; plain number types.
        (0..n)
            .map(|i| unsafe { src.add(i).read_unaligned() })
            .collect()
    }
}

#[cfg(test)]
impl Memory for TestMemory {
    fn size(&self) -> u64 {
        self.words.len() as u64 * 8
    }

    fn at(&self, offset: u32) -> *mut u8 {
        // `Cell::as_ptr` grants write access through the shared reference.
        self.words
            .as_ptr()
            .cast::<u8>()
            .cast_mut()
            .wrapping_add(offset as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_in_bounds_aligned() {
        let mem = TestMemory::new(64);
        let r = mem.region::<f32>(8, 14, "a").unwrap();
        assert_eq!(
            r,
            Region {
                offset: 8,
                bytes: 56
            }
        );
        mem.write(8, &[1.5f32, 2.5]);
        // SAFETY: checked region, nothing writes meanwhile.
        let s = unsafe { mem.slice::<f32>(r) };
        assert_eq!(&s[..2], &[1.5, 2.5]);
    }

    #[test]
    fn zero_length_is_fine_anywhere() {
        let mem = TestMemory::new(64);
        for offset in [0, 3, 64, u32::MAX] {
            let r = mem.region::<f32>(offset, 0, "a").unwrap();
            // SAFETY: empty regions are never read.
            assert!(unsafe { mem.slice::<f32>(r) }.is_empty());
        }
    }

    #[test]
    fn null_with_length_is_null_pointer() {
        let mem = TestMemory::new(64);
        let err = mem.region::<u8>(0, 1, "query").unwrap_err();
        assert_eq!(err, Error::NullPointer { arg: "query" });
    }

    #[test]
    fn out_of_bounds_and_overflow_are_invalid() {
        let mem = TestMemory::new(64);
        assert!(mem.region::<u8>(1, 63, "a").is_ok());
        assert_eq!(mem.region::<u8>(1, 64, "a").unwrap_err().code(), -3);
        assert_eq!(mem.region::<f32>(60, 2, "a").unwrap_err().code(), -3);
        // offset + bytes and count * size overflow u32: still caught.
        assert_eq!(mem.region::<u8>(u32::MAX, 1, "a").unwrap_err().code(), -3);
        assert_eq!(mem.region::<f32>(4, u32::MAX, "a").unwrap_err().code(), -3);
        assert_eq!(
            mem.region::<f32>(u32::MAX - 3, 1 << 30, "a")
                .unwrap_err()
                .code(),
            -3
        );
        let msg =
            alloc::string::ToString::to_string(&mem.region::<f32>(60, 2, "rows").unwrap_err());
        assert!(
            msg.contains("`rows`") && msg.contains("past the end"),
            "{msg}"
        );
    }

    #[test]
    fn misaligned_floats_are_invalid_bytes_are_not() {
        let mem = TestMemory::new(64);
        let err = mem.region::<f32>(6, 2, "b").unwrap_err();
        assert!(alloc::string::ToString::to_string(&err).contains("aligned"));
        assert!(mem.region::<u8>(7, 3, "b").is_ok());
        assert!(mem.region::<i8>(7, 3, "b").is_ok());
    }

    #[test]
    fn overlap() {
        let r = |offset, bytes| Region { offset, bytes };
        assert!(r(8, 8).overlaps(r(12, 8)));
        assert!(r(12, 8).overlaps(r(8, 8)));
        assert!(r(8, 16).overlaps(r(12, 4)));
        assert!(!r(8, 8).overlaps(r(16, 8)));
        assert!(!r(16, 8).overlaps(r(8, 8)));
        assert!(!r(8, 0).overlaps(r(0, 64)));
        assert!(check_disjoint(r(8, 8), "out", r(12, 4), "rows").is_err());
        assert!(check_disjoint(r(8, 8), "out", r(16, 4), "rows").is_ok());
    }
}
