//! C entry points for [`Engine`]: every kernel on a backend chosen at run time (native, or
//! ferrovec's wasm module inside the wasmi interpreter with fuel and a memory cap).

use std::ffi::{c_char, CStr};

use ferrovec_core::kernels::{Isa, Metric};
use ferrovec_core::Error;

use super::{
    c_slice, c_slice_mut, check_disjoint, guard, guard_status, FV_ERROR_I32, FV_ERROR_U32,
};
use crate::backend::{InterpretedOptions, Native};
use crate::{BackendKind, Engine};

/// `fv_engine_new` backend: the compiled kernels of this library.
pub const FV_BACKEND_NATIVE: i32 = 0;
/// `fv_engine_new` backend: ferrovec's wasm module run by the embedded wasmi interpreter,
/// for hosts that may not load native code; with an optional fuel budget and memory cap.
pub const FV_BACKEND_INTERPRETED: i32 = 1;

/// An engine: every kernel on one backend. Create with `fv_engine_new`, destroy with
/// `fv_engine_free`.
///
/// Thread-safe: any thread may call any `fv_engine_*` function on it, concurrently.
/// Interpreted calls on one engine run one at a time (the wasm instance is single-threaded);
/// create one engine per thread for parallel interpreted work.
#[allow(non_camel_case_types)]
pub struct fv_engine {
    engine: Engine,
}

/// Options for `fv_engine_new`. Start from `fv_engine_options_default()` so fields added
/// later get their defaults; a zeroed struct means the same defaults.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_engine_options {
    /// Interpreted: the `.wasm` module to run (ABI v1, see wasm/README.md), or NULL for the
    /// SIMD module bundled in this library. Copied by `fv_engine_new`; may be freed after.
    pub module: *const u8,
    /// Interpreted: length of `module` in bytes (ignored when `module` is NULL).
    pub module_len: usize,
    /// Interpreted: fuel (roughly, wasm instructions) each call may use; 0 = unlimited.
    /// A call that runs out fails with `FV_ERR_OUT_OF_FUEL`; the engine stays usable.
    pub fuel: u64,
    /// Interpreted: the most bytes the module's linear memory may grow to; 0 = unlimited
    /// (4 GiB). Must hold the module's initial memory (about 1 MiB) plus the largest call's
    /// inputs and outputs; a call that does not fit fails with `FV_ERR_OUT_OF_MEMORY`.
    pub memory_limit: usize,
    /// Interpreted: NULL, or 32 bytes: the SHA-256 the module must have
    /// (`FV_ERR_INVALID_MODULE` otherwise).
    pub sha256: *const u8,
    /// Native: NULL to follow the process-wide instruction set (`fv_isa_name()`), or the
    /// name of one to pin (`"scalar"`, `"avx2"`, ...).
    pub isa: *const c_char,
}

impl Default for fv_engine_options {
    fn default() -> Self {
        fv_engine_options {
            module: std::ptr::null(),
            module_len: 0,
            fuel: 0,
            memory_limit: 0,
            sha256: std::ptr::null(),
            isa: std::ptr::null(),
        }
    }
}

/// The default options: bundled module, no fuel limit, no memory cap, any SHA-256, the
/// process-wide instruction set.
#[no_mangle]
pub extern "C" fn fv_engine_options_default() -> fv_engine_options {
    fv_engine_options::default()
}

/// Builds the engine `options` describe for `backend`.
///
/// # Safety
/// The pointers in `options` follow the field docs.
unsafe fn build(backend: i32, options: &fv_engine_options) -> Result<Engine, Error> {
    match backend {
        FV_BACKEND_NATIVE => {
            if options.isa.is_null() {
                return Ok(Engine::native());
            }
            // SAFETY: non-null and NUL-terminated by the field's contract.
            let name = unsafe { CStr::from_ptr(options.isa) }.to_string_lossy();
            let isa = Isa::from_name(&name).ok_or_else(|| {
                Error::InvalidArgument(format!("unknown instruction set `{name}`"))
            })?;
            Ok(Engine::with_backend(Native::with_isa(isa)?))
        }
        FV_BACKEND_INTERPRETED => {
            let mut builder = InterpretedOptions::new()
                .fuel((options.fuel != 0).then_some(options.fuel))
                .memory_limit((options.memory_limit != 0).then_some(options.memory_limit));
            if !options.module.is_null() {
                // SAFETY: `module_len` readable bytes by the field's contract.
                let bytes = unsafe { c_slice(options.module, options.module_len, "module")? };
                builder = builder.module(bytes);
            } else if options.module_len != 0 {
                return Err(Error::NullPointer { arg: "module" });
            }
            if !options.sha256.is_null() {
                // SAFETY: 32 readable bytes by the field's contract.
                let digest = unsafe { c_slice(options.sha256, 32, "sha256")? };
                let digest: [u8; 32] = digest.try_into().expect("32 bytes");
                builder = builder.expect_sha256(digest);
            }
            Engine::interpreted(&builder)
        }
        other => Err(Error::InvalidArgument(format!(
            "unknown backend {other} (expected FV_BACKEND_NATIVE = 0 or \
             FV_BACKEND_INTERPRETED = 1)"
        ))),
    }
}

/// Creates an engine on `backend` (`FV_BACKEND_NATIVE` or `FV_BACKEND_INTERPRETED`) with
/// `options` (NULL for the defaults) and stores it in `*out`.
///
/// Returns `FV_OK`, or a negative `FV_ERR_*` code with a message, leaving `*out` untouched:
/// `FV_ERR_NULL_POINTER` (`out` is NULL), `FV_ERR_INVALID_ARGUMENT` (unknown backend or
/// instruction set name; no module given and none bundled), `FV_ERR_UNSUPPORTED_ISA`,
/// `FV_ERR_INVALID_MODULE` (malformed module, wrong SHA-256, imports, missing exports, other
/// ABI version), `FV_ERR_OUT_OF_MEMORY` (memory cap below the module's initial memory).
///
/// # Safety
/// `options` must be NULL or point to a valid `fv_engine_options` whose pointers follow its
/// field docs; `out` must be NULL or point to writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_new(
    backend: i32,
    options: *const fv_engine_options,
    out: *mut *mut fv_engine,
) -> i32 {
    guard_status(|| {
        if out.is_null() {
            return Err(Error::NullPointer { arg: "out" });
        }
        let defaults = fv_engine_options::default();
        // SAFETY: NULL or a valid options struct, by this function's contract.
        let options = unsafe { options.as_ref() }.unwrap_or(&defaults);
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { build(backend, options)? };
        let handle = Box::into_raw(Box::new(fv_engine { engine }));
        // SAFETY: `out` is non-null and writable by this function's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Destroys an engine made by `fv_engine_new`. NULL does nothing.
///
/// # Safety
/// `engine` must be NULL or a pointer returned by `fv_engine_new` that was not freed yet and
/// that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_free(engine: *mut fv_engine) {
    if !engine.is_null() {
        // Dropping runs only our own destructors (no callbacks into C); a panic there would
        // be a bug, and must not unwind into C.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: made by Box::into_raw in fv_engine_new, not freed yet (contract).
            drop(unsafe { Box::from_raw(engine) });
        }));
    }
}

/// The engine's backend: `"native"` or `"interpreted"` (static, never freed); NULL if
/// `engine` is NULL.
///
/// # Safety
/// `engine` must be NULL or a live engine.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_backend_name(engine: *const fv_engine) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_ref(engine)? };
        Ok(match engine.kind() {
            BackendKind::Native => c"native".as_ptr(),
            BackendKind::Interpreted => c"interpreted".as_ptr(),
        })
    })
}

/// # Safety
/// `engine` must be NULL or a live engine for the lifetime `'a`.
pub(super) unsafe fn engine_ref<'a>(engine: *const fv_engine) -> Result<&'a Engine, Error> {
    // SAFETY: NULL or live, by the caller's contract.
    unsafe { engine.as_ref() }
        .map(|e| &e.engine)
        .ok_or(Error::NullPointer { arg: "engine" })
}

/// `fv_dot_f32` on `engine`'s backend.
///
/// Returns NaN with a message on a NULL engine, a NULL (or misaligned) vector while `n > 0`,
/// or an interpreted failure (out of fuel, out of memory, trap).
///
/// # Safety
/// `engine` must be NULL or live; `a` and `b` must each point to `n` readable floats (or be
/// anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_engine_dot_f32(
    engine: *const fv_engine,
    a: *const f32,
    b: *const f32,
    n: usize,
) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n, "a")?,
                c_slice(b, n, "b")?,
            )
        };
        engine.dot_f32(a, b)
    })
}

/// `fv_cosine_distance_f32` on `engine`'s backend; NaN with a message on error (as
/// `fv_engine_dot_f32`).
///
/// # Safety
/// As `fv_engine_dot_f32`.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_cosine_distance_f32(
    engine: *const fv_engine,
    a: *const f32,
    b: *const f32,
    n: usize,
) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n, "a")?,
                c_slice(b, n, "b")?,
            )
        };
        engine.cosine_distance_f32(a, b)
    })
}

/// `fv_l2sq_f32` on `engine`'s backend; NaN with a message on error (as
/// `fv_engine_dot_f32`).
///
/// # Safety
/// As `fv_engine_dot_f32`.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_l2sq_f32(
    engine: *const fv_engine,
    a: *const f32,
    b: *const f32,
    n: usize,
) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n, "a")?,
                c_slice(b, n, "b")?,
            )
        };
        engine.l2sq_f32(a, b)
    })
}

/// `fv_l2_normalize_f32` on `engine`'s backend: scales `x` to unit length in place and
/// returns its length before scaling. NaN with a message on error, with `x` unchanged.
///
/// # Safety
/// `engine` must be NULL or live; `x` must point to `n` readable and writable floats (or be
/// anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_engine_l2_normalize_f32(
    engine: *const fv_engine,
    x: *mut f32,
    n: usize,
) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, x) = unsafe { (engine_ref(engine)?, c_slice_mut(x, n, "x")?) };
        engine.l2_normalize_f32(x)
    })
}

/// `fv_dot_i8` on `engine`'s backend; `FV_ERROR_I32` with a message on error.
///
/// # Safety
/// `engine` must be NULL or live; `a` and `b` must each point to `n` readable bytes (or be
/// anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_engine_dot_i8(
    engine: *const fv_engine,
    a: *const i8,
    b: *const i8,
    n: usize,
) -> i32 {
    guard(FV_ERROR_I32, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n, "a")?,
                c_slice(b, n, "b")?,
            )
        };
        engine.dot_i8(a, b)
    })
}

/// `fv_l2sq_i8` on `engine`'s backend; `FV_ERROR_U32` with a message on error.
///
/// # Safety
/// As `fv_engine_dot_i8`.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_l2sq_i8(
    engine: *const fv_engine,
    a: *const i8,
    b: *const i8,
    n: usize,
) -> u32 {
    guard(FV_ERROR_U32, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n, "a")?,
                c_slice(b, n, "b")?,
            )
        };
        engine.l2sq_i8(a, b)
    })
}

/// `fv_hamming_b1` on `engine`'s backend; `FV_ERROR_U32` with a message on error.
///
/// # Safety
/// `engine` must be NULL or live; `a` and `b` must each point to `n_bytes` readable bytes
/// (or be anything when `n_bytes = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_engine_hamming_b1(
    engine: *const fv_engine,
    a: *const u8,
    b: *const u8,
    n_bytes: usize,
) -> u32 {
    guard(FV_ERROR_U32, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n_bytes, "a")?,
                c_slice(b, n_bytes, "b")?,
            )
        };
        engine.hamming_b1(a, b)
    })
}

/// `fv_jaccard_b1` on `engine`'s backend; NaN with a message on error.
///
/// # Safety
/// As `fv_engine_hamming_b1`.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_jaccard_b1(
    engine: *const fv_engine,
    a: *const u8,
    b: *const u8,
    n_bytes: usize,
) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (engine, a, b) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(a, n_bytes, "a")?,
                c_slice(b, n_bytes, "b")?,
            )
        };
        engine.jaccard_b1(a, b)
    })
}

/// `fv_scan_f32` on `engine`'s backend: `out_scores[i] = metric(query, rows + i * dims)`.
///
/// Returns `FV_OK`, or a negative `FV_ERR_*` code with a message (everything
/// `fv_scan_f32` checks, a NULL engine, and for an interpreted engine
/// `FV_ERR_OUT_OF_FUEL`, `FV_ERR_OUT_OF_MEMORY`, `FV_ERR_TRAP`). On error `out_scores` is
/// not written.
///
/// # Safety
/// `engine` must be NULL or live; otherwise as `fv_scan_f32`.
#[no_mangle]
pub unsafe extern "C" fn fv_engine_scan_f32(
    engine: *const fv_engine,
    metric: i32,
    query: *const f32,
    rows: *const f32,
    n_rows: usize,
    dims: usize,
    out_scores: *mut f32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_ref(engine)? };
        let metric = Metric::from_code(metric)?;
        let total = n_rows.checked_mul(dims).ok_or_else(|| {
            Error::InvalidArgument(format!("n_rows ({n_rows}) * dims ({dims}) overflows"))
        })?;
        // SAFETY: forwarded from this function's contract; `out` is checked below not to
        // overlap the inputs before anything is written.
        let (query, rows) = unsafe {
            (
                c_slice(query, dims, "query")?,
                c_slice(rows, total, "rows")?,
            )
        };
        // SAFETY: as above.
        let out = unsafe { c_slice_mut(out_scores, n_rows, "out_scores")? };
        check_disjoint(out, "out_scores", rows, "rows")?;
        check_disjoint(out, "out_scores", query, "query")?;
        engine.scan_f32(metric, query, rows, out)
    })
}
