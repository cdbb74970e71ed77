//! The one error type every ferrovec surface reports.
//!
//! Each variant has a stable negative status code ([`Error::code`]) that the C ABI and the
//! wasm ABI return; the message ([`core::fmt::Display`]) is what `fv_last_error_message()`
//! and the language bindings show.

use alloc::string::String;

/// Everything that can go wrong in ferrovec.
///
/// With the `uniffi` feature this is the `FerrovecError` exception of the Swift, Kotlin and
/// Python bindings: one subclass per variant, carrying the [`core::fmt::Display`] message
/// (flat, because fields such as `&'static str` do not cross UniFFI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
#[cfg_attr(feature = "uniffi", uniffi(flat_error, name = "FerrovecError"))]
#[non_exhaustive]
pub enum Error {
    /// A required pointer argument was null (C and wasm ABIs only).
    #[error("null pointer passed for `{arg}`")]
    NullPointer {
        /// Name of the offending argument.
        arg: &'static str,
    },
    /// Two inputs that must have the same length do not.
    #[error("dimension mismatch: expected {expected}, got {actual}")]
    DimensionMismatch {
        /// The length the call required.
        expected: usize,
        /// The length it was given.
        actual: usize,
    },
    /// An argument is outside its documented domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A metric code that does not name a metric.
    #[error("unknown metric code {0} (expected 0 = dot, 1 = cosine, 2 = squared L2)")]
    UnknownMetric(i32),
    /// The requested instruction set cannot run on this CPU or was not compiled in.
    #[error("instruction set `{0}` is not available on this machine")]
    UnsupportedIsa(String),
    /// A wasm module given to the interpreted backend was refused: malformed, not the
    /// expected SHA-256, importing something, missing an export, or of an unsupported ABI
    /// version.
    #[error("invalid wasm module: {0}")]
    InvalidModule(String),
    /// An interpreted call used up its fuel (instruction budget) before finishing.
    #[error("out of fuel: the interpreted call used its whole budget of {budget} fuel units")]
    OutOfFuel {
        /// The budget each call gets.
        budget: u64,
    },
    /// Memory could not be allocated, e.g. the interpreted backend's linear-memory cap is
    /// reached.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// The wasm module trapped (other than by running out of fuel); the interpreted backend
    /// discards the instance and starts a fresh one for the next call.
    #[error("the wasm module trapped: {0}")]
    Trap(String),
    /// No vector is stored under this key (index `remove`, `get`).
    #[error("key {0} not found")]
    KeyNotFound(u64),
    /// The key is already in the index and the caller asked for an error on duplicates.
    #[error("key {0} is already in the index")]
    DuplicateKey(u64),
    /// A saved file or byte buffer is not a valid ferrovec file: bad magic, checksum
    /// mismatch, truncated, or a length / count / id that does not fit the data.
    #[error("corrupt file: {0}")]
    CorruptFile(String),
    /// A saved file has a format version this build cannot read.
    #[error("unsupported file format version {0}")]
    UnsupportedVersion(u32),
    /// A handle (wasm handle registry, C object) is stale, freed, or was never issued.
    #[error("invalid handle: stale, freed, or never issued")]
    InvalidHandle,
    /// A panic was caught at an FFI boundary; this is a bug in ferrovec.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable status code of this error: always negative.
    ///
    /// | code | variant |
    /// | ---: | --- |
    /// | -1 | `NullPointer` |
    /// | -2 | `DimensionMismatch` |
    /// | -3 | `InvalidArgument` |
    /// | -4 | `UnknownMetric` |
    /// | -5 | `UnsupportedIsa` |
    /// | -6 | `InvalidModule` |
    /// | -7 | `OutOfFuel` |
    /// | -8 | `OutOfMemory` |
    /// | -9 | `Trap` |
    /// | -10 | `KeyNotFound` |
    /// | -11 | `DuplicateKey` |
    /// | -12 | `CorruptFile` |
    /// | -13 | `UnsupportedVersion` |
    /// | -14 | `InvalidHandle` |
    /// | -99 | `Internal` |
    pub fn code(&self) -> i32 {
        match self {
            Error::NullPointer { .. } => -1,
            Error::DimensionMismatch { .. } => -2,
            Error::InvalidArgument(_) => -3,
            Error::UnknownMetric(_) => -4,
            Error::UnsupportedIsa(_) => -5,
            Error::InvalidModule(_) => -6,
            Error::OutOfFuel { .. } => -7,
            Error::OutOfMemory(_) => -8,
            Error::Trap(_) => -9,
            Error::KeyNotFound(_) => -10,
            Error::DuplicateKey(_) => -11,
            Error::CorruptFile(_) => -12,
            Error::UnsupportedVersion(_) => -13,
            Error::InvalidHandle => -14,
            Error::Internal(_) => -99,
        }
    }
}

/// `Result` with ferrovec's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
