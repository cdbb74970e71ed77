//! What both users of a live module instance share, the kernel backend
//! ([`Interpreted`](super::Interpreted)) and its index (`interpreted_index`): why a call into
//! the module failed, the staging block kept in module memory for arguments, and the
//! module's last error message.

use ferrovec_core::Error;
use wasmi::{Memory, Store, StoreLimits, TypedFunc};

/// The longest last-error message read back from a module.
const MAX_MESSAGE: usize = 4096;

/// Staging blocks grow in steps of this many bytes, so slowly growing calls do not
/// reallocate each time.
const SCRATCH_STEP: usize = 64 * 1024;

/// Why a call inside the module failed.
pub(super) enum Fail {
    /// The module (or the host on its behalf) refused cleanly; the instance is intact.
    Clean(Error),
    /// wasmi stopped the call (out of fuel or a trap): the instance is discarded.
    Wasm(wasmi::Error),
    /// The module broke the ABI (e.g. handed out an out-of-bounds block): discarded.
    Broken(String),
}

impl From<wasmi::Error> for Fail {
    fn from(err: wasmi::Error) -> Fail {
        Fail::Wasm(err)
    }
}

pub(super) type CallResult<T> = std::result::Result<T, Fail>;

/// The ABI functions staging and error reporting call (ABI v1, kept by v2).
pub(super) struct AbiMemory<'a> {
    pub alloc: &'a TypedFunc<u32, u32>,
    pub free: &'a TypedFunc<(u32, u32), ()>,
    pub last_error: &'a TypedFunc<u32, u32>,
    pub memory: Memory,
    /// The cap on linear memory (for messages; the store's limiter enforces it).
    pub memory_limit: Option<usize>,
}

impl AbiMemory<'_> {
    /// The module's last error message (`fv_last_error`), at most [`MAX_MESSAGE`] bytes.
    pub fn message(&self, store: &mut Store<StoreLimits>) -> CallResult<String> {
        let at = self.last_error.call(&mut *store, 0)? as usize;
        let memory = self.memory.data(&*store);
        let text = memory
            .get(at..)
            .ok_or_else(|| Fail::Broken(format!("fv_last_error returned {at}, out of bounds")))?;
        let text = &text[..text.len().min(MAX_MESSAGE)];
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        Ok(String::from_utf8_lossy(&text[..end]).into_owned())
    }
}

/// The block of module memory kept across calls for staging arguments.
#[derive(Clone, Copy, Default)]
pub(super) struct Scratch {
    block: u32,
    /// Its size; 0 = none.
    size: u32,
}

impl Scratch {
    /// Makes room for buffers of the given byte sizes in the block and returns their
    /// offsets: each 16-byte aligned and at least 1 byte long, so no two overlap, not even
    /// empty ones.
    pub fn stage<const N: usize>(
        &mut self,
        store: &mut Store<StoreLimits>,
        abi: &AbiMemory<'_>,
        sizes: [usize; N],
    ) -> CallResult<[u32; N]> {
        let mut offsets = [0u32; N];
        let mut total: u64 = 0;
        for (offset, size) in offsets.iter_mut().zip(sizes) {
            *offset = total.min(u64::from(u32::MAX)) as u32;
            total = total.saturating_add((size.max(1) as u64).next_multiple_of(16));
        }
        if total > u64::from(u32::MAX) {
            return Err(Fail::Clean(Error::OutOfMemory(format!(
                "the call needs {total} bytes of module memory, more than the 4 GiB a wasm32 \
                 module can address"
            ))));
        }
        let base = self.reserve(store, abi, total as u32)?;
        for offset in &mut offsets {
            *offset += base;
        }
        Ok(offsets)
    }

    /// Returns a block of at least `size` bytes.
    fn reserve(
        &mut self,
        store: &mut Store<StoreLimits>,
        abi: &AbiMemory<'_>,
        size: u32,
    ) -> CallResult<u32> {
        let Scratch { block, size: have } = *self;
        if have >= size {
            return Ok(block);
        }
        if have > 0 {
            *self = Scratch::default();
            abi.free.call(&mut *store, (block, have))?;
        }
        // Round up, unless only the exact size still fits under the memory cap.
        let rounded = (size as usize)
            .next_multiple_of(SCRATCH_STEP)
            .min(u32::MAX as usize) as u32;
        for want in [rounded, size] {
            let block = abi.alloc.call(&mut *store, want)?;
            if block != 0 {
                let end = u64::from(block) + u64::from(want);
                if end > abi.memory.data_size(&*store) as u64 {
                    return Err(Fail::Broken(format!(
                        "fv_alloc({want}) returned {block}, past the end of memory"
                    )));
                }
                *self = Scratch { block, size: want };
                return Ok(block);
            }
        }
        let reason = abi.message(store)?;
        let memory = abi.memory.data_size(&*store);
        Err(Fail::Clean(Error::OutOfMemory(format!(
            "the wasm module could not allocate {size} bytes (its memory is {memory} bytes{}): \
             {reason}",
            match abi.memory_limit {
                Some(cap) => format!(", capped at {cap}"),
                None => String::new(),
            }
        ))))
    }
}
