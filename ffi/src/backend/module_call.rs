//! What every user of a live module instance shares, the kernel backend
//! ([`Interpreted`](super::Interpreted)) and its engines' objects (`interpreted_index`,
//! `interpreted_solver`): why a call into the module failed, the staging block kept in
//! module memory for arguments, the module's last error message and the error it stands
//! for, and ([`Sandbox`], [`Inst`]) one object in its own instance under the backend's
//! fuel and memory limits.

use ferrovec_core::{Error, Result};
use wasmi::{
    Engine as WasmEngine, Instance, Memory, Module, Store, StoreLimits, StoreLimitsBuilder,
    TrapCode, TypedFunc, WasmParams, WasmResults,
};

use super::interpreted::INSTANTIATION_FUEL;

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

// ------------------------------------------------------------------ engine objects

/// The ABI v1 functions every instance has (allocation and the last error).
pub(super) struct AbiFuncs {
    pub alloc: TypedFunc<u32, u32>,
    pub free: TypedFunc<(u32, u32), ()>,
    pub last_error: TypedFunc<u32, u32>,
}

/// Looks up a typed export, naming what is missing.
pub(super) fn export<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &Store<StoreLimits>,
    name: &str,
    what: &str,
) -> Result<TypedFunc<P, R>> {
    instance.get_typed_func::<P, R>(store, name).map_err(|e| {
        Error::InvalidModule(format!(
            "export `{name}` is missing or has the wrong signature ({e}): the module does not \
             implement {what} (wasm/README.md)"
        ))
    })
}

/// The wasm side of an engine object (an index, a matrix, a graph): the compiled module
/// and the limits every call runs under. Each object lives in its own instance
/// ([`Instance`]); [`Sandbox::call_raw`] runs one call and says whether the instance
/// must be discarded.
#[derive(Clone)]
pub(super) struct Sandbox {
    pub engine: WasmEngine,
    pub module: Module,
    pub fuel: Option<u64>,
    pub memory_limit: Option<usize>,
}

impl Sandbox {
    /// A fresh store and instance of the module, with the engine's exports looked up by
    /// `lookup`.
    pub fn instantiate<F>(
        &self,
        lookup: impl FnOnce(&Instance, &Store<StoreLimits>) -> Result<F>,
    ) -> Result<Inst<F>> {
        let mut limits = StoreLimitsBuilder::new().instances(1).memories(1);
        if let Some(cap) = self.memory_limit {
            limits = limits.memory_size(cap);
        }
        let mut store = Store::new(&self.engine, limits.build());
        store.limiter(|limits| limits);
        if self.fuel.is_some() {
            store.set_fuel(INSTANTIATION_FUEL).map_err(internal)?;
        }
        // Links the host kernels if the module imports them (`host_kernels.rs`).
        let instance = super::host_kernels::instantiate(&mut store, &self.module)
            .map_err(|e| Error::InvalidModule(format!("it could not be instantiated: {e}")))?;
        let memory = instance.get_memory(&store, "memory").ok_or_else(|| {
            Error::InvalidModule("it does not export a linear memory named `memory`".into())
        })?;
        let what = "ABI version 1's allocation functions";
        let abi = AbiFuncs {
            alloc: export(&instance, &store, "fv_alloc", what)?,
            free: export(&instance, &store, "fv_free", what)?,
            last_error: export(&instance, &store, "fv_last_error", what)?,
        };
        let f = lookup(&instance, &store)?;
        Ok(Inst {
            store,
            memory,
            abi,
            f,
            handle: 0,
            scratch: Scratch::default(),
            memory_limit: self.memory_limit,
        })
    }

    /// Runs `body` on `inst` with a fresh fuel budget and maps its failure to an
    /// [`Error`]; the flag says whether the instance must be discarded (wasmi stopped the
    /// call, or the module broke its ABI).
    pub fn call_raw<F, R>(
        &self,
        inst: &mut Inst<F>,
        body: impl FnOnce(&mut Inst<F>) -> CallResult<R>,
    ) -> std::result::Result<R, (Error, bool)> {
        if let Some(budget) = self.fuel {
            inst.store
                .set_fuel(budget)
                .map_err(|e| (internal(e), false))?;
        }
        match body(inst) {
            Ok(value) => Ok(value),
            Err(Fail::Clean(err)) => Err((err, false)),
            Err(Fail::Wasm(err)) => Err((
                match (err.as_trap_code(), self.fuel) {
                    (Some(TrapCode::OutOfFuel), Some(budget)) => Error::OutOfFuel { budget },
                    _ => Error::Trap(err.to_string()),
                },
                true,
            )),
            Err(Fail::Broken(what)) => Err((
                Error::Trap(format!("the module broke its ABI: {what}")),
                true,
            )),
        }
    }

    /// As [`call_raw`](Self::call_raw), without the flag.
    pub fn call<F, R>(
        &self,
        inst: &mut Inst<F>,
        body: impl FnOnce(&mut Inst<F>) -> CallResult<R>,
    ) -> Result<R> {
        self.call_raw(inst, body).map_err(|(err, _)| err)
    }
}

pub(super) fn internal(err: wasmi::Error) -> Error {
    Error::Internal(format!("wasmi: {err}"))
}

/// A live instance holding one engine object: its store and memory, the ABI v1 functions,
/// the engine's exports `F`, the object's handle, and the staging block.
pub(super) struct Inst<F> {
    pub store: Store<StoreLimits>,
    pub memory: Memory,
    pub abi: AbiFuncs,
    pub f: F,
    /// The object's handle in the instance's registry.
    pub handle: u32,
    scratch: Scratch,
    memory_limit: Option<usize>,
}

/// Plain numbers that cross the ABI as little-endian bytes.
pub(super) trait Le: Copy {
    const SIZE: usize;
    fn put(self, dst: &mut [u8]);
    fn get(src: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, dst: &mut [u8]) {
                dst.copy_from_slice(&self.to_le_bytes());
            }
            fn get(src: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(src);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}
le!(u32, u64, f32, f64);

impl<F> Inst<F> {
    /// Offsets in the staging block for buffers of the given byte sizes (see
    /// [`Scratch::stage`]).
    pub fn stage<const N: usize>(&mut self, sizes: [usize; N]) -> CallResult<[u32; N]> {
        let abi = AbiMemory {
            alloc: &self.abi.alloc,
            free: &self.abi.free,
            last_error: &self.abi.last_error,
            memory: self.memory,
            memory_limit: self.memory_limit,
        };
        self.scratch.stage(&mut self.store, &abi, sizes)
    }

    pub fn bytes_mut(&mut self, at: u32, len: usize) -> CallResult<&mut [u8]> {
        self.memory
            .data_mut(&mut self.store)
            .get_mut(at as usize..at as usize + len)
            .ok_or_else(|| Fail::Broken(format!("buffer at {at} is out of bounds")))
    }

    pub fn bytes(&self, at: u32, len: usize) -> CallResult<&[u8]> {
        self.memory
            .data(&self.store)
            .get(at as usize..at as usize + len)
            .ok_or_else(|| Fail::Broken(format!("buffer at {at} is out of bounds")))
    }

    pub fn write_bytes(&mut self, at: u32, src: &[u8]) -> CallResult<()> {
        self.bytes_mut(at, src.len())?.copy_from_slice(src);
        Ok(())
    }

    /// Copies numbers into module memory at `at`.
    pub fn write<T: Le>(&mut self, at: u32, src: &[T]) -> CallResult<()> {
        let dst = self.bytes_mut(at, src.len() * T::SIZE)?;
        for (d, s) in dst.chunks_exact_mut(T::SIZE).zip(src) {
            s.put(d);
        }
        Ok(())
    }

    /// Copies `n` numbers out of module memory at `at`.
    pub fn read<T: Le>(&self, at: u32, n: usize) -> CallResult<Vec<T>> {
        Ok(self
            .bytes(at, n * T::SIZE)?
            .chunks_exact(T::SIZE)
            .map(T::get)
            .collect())
    }

    /// The cap on the instance's linear memory, if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    pub fn read_u32(&self, at: u32) -> CallResult<u32> {
        Ok(self.read::<u32>(at, 1)?[0])
    }

    pub fn message(&mut self) -> CallResult<String> {
        let abi = AbiMemory {
            alloc: &self.abi.alloc,
            free: &self.abi.free,
            last_error: &self.abi.last_error,
            memory: self.memory,
            memory_limit: self.memory_limit,
        };
        abi.message(&mut self.store)
    }

    /// A non-zero status becomes the core error it stands for (with the module's message).
    pub fn check(&mut self, status: i32) -> CallResult<()> {
        if status == 0 {
            return Ok(());
        }
        let message = self.message()?;
        Err(Fail::Clean(error_from(status, &message)))
    }

    /// Copies a block the module handed out (`ptr`, `len` bytes) and frees it.
    pub fn take_block(&mut self, ptr: u32, len: u32) -> CallResult<Vec<u8>> {
        let bytes = self.bytes(ptr, len as usize)?.to_vec();
        self.abi.free.call(&mut self.store, (ptr, len))?;
        Ok(bytes)
    }
}

/// `value` as a u32 count or length for the module, or an error naming `what`.
pub(super) fn to_u32(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::InvalidArgument(format!(
            "{what} ({value}) does not fit the wasm module's 32-bit address space"
        ))
    })
}

/// As [`to_u32`], inside a call.
pub(super) fn fits(value: usize, what: &str) -> CallResult<u32> {
    to_u32(value, what).map_err(Fail::Clean)
}

/// The first unsigned integer in `text` after `after`.
fn number_after(text: &str, after: &str) -> Option<u64> {
    let rest = &text[text.find(after)? + after.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The core error a module status and message stand for (the message is the core error's
/// `Display`, so variants with data are parsed back).
pub(super) fn error_from(status: i32, message: &str) -> Error {
    let strip = |prefix: &str| message.strip_prefix(prefix).unwrap_or(message).to_string();
    let parsed = match status {
        -2 => number_after(message, "expected")
            .zip(number_after(message, "got"))
            .map(|(expected, actual)| Error::DimensionMismatch {
                expected: expected as usize,
                actual: actual as usize,
            }),
        -3 => Some(Error::InvalidArgument(strip("invalid argument: "))),
        -8 => Some(Error::OutOfMemory(strip("out of memory: "))),
        -10 => number_after(message, "key").map(Error::KeyNotFound),
        -11 => number_after(message, "key").map(Error::DuplicateKey),
        -12 => Some(Error::CorruptFile(strip("corrupt file: "))),
        -13 => number_after(message, "version").map(|v| Error::UnsupportedVersion(v as u32)),
        -14 => Some(Error::InvalidHandle),
        _ => None,
    };
    parsed.unwrap_or_else(|| {
        Error::Internal(format!(
            "the wasm module failed with status {status}: {message}"
        ))
    })
}
