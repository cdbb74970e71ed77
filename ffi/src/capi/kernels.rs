//! C entry points for the distance kernels. Their signatures are a stable contract: other
//! tools link against them.

use std::ffi::{c_char, CStr};

use ferrovec_core::kernels::{self, Isa, Metric};
use ferrovec_core::Error;

use super::{
    c_slice, c_slice_mut, check_disjoint, guard, guard_status, FV_ERROR_I32, FV_ERROR_U32,
};

/// `fv_scan_f32` metric: negated inner product, `-(a . b)` (smaller is closer).
pub const FV_METRIC_DOT: i32 = 0;
/// `fv_scan_f32` metric: cosine distance, `1 - cos(a, b)`, in `[0, 2]`.
pub const FV_METRIC_COSINE: i32 = 1;
/// `fv_scan_f32` metric: squared Euclidean distance.
pub const FV_METRIC_L2SQ: i32 = 2;

/// Inner product of two f32 vectors of length `n`.
///
/// Returns NaN, with a message for `fv_last_error_message()`, if `a` or `b` is null (or
/// misaligned) while `n > 0`. `n = 0` gives 0.
///
/// # Safety
/// `a` and `b` must each point to `n` readable floats (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_dot_f32(a: *const f32, b: *const f32, n: usize) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n, "a")?, c_slice(b, n, "b")?) };
        kernels::dot_f32(a, b)
    })
}

/// Cosine distance `1 - cos(a, b)` of two f32 vectors of length `n`, in `[0, 2]`.
///
/// Two zero vectors give 0; exactly one zero vector gives 1. Returns NaN with a message on
/// null (or misaligned) input while `n > 0`.
///
/// # Safety
/// `a` and `b` must each point to `n` readable floats (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_cosine_distance_f32(a: *const f32, b: *const f32, n: usize) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n, "a")?, c_slice(b, n, "b")?) };
        kernels::cosine_distance_f32(a, b)
    })
}

/// Squared Euclidean distance of two f32 vectors of length `n`.
///
/// Returns NaN with a message on null (or misaligned) input while `n > 0`.
///
/// # Safety
/// `a` and `b` must each point to `n` readable floats (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_l2sq_f32(a: *const f32, b: *const f32, n: usize) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n, "a")?, c_slice(b, n, "b")?) };
        kernels::l2sq_f32(a, b)
    })
}

/// Scales the f32 vector `x` of length `n` to unit Euclidean length in place and returns its
/// length before scaling.
///
/// A vector of length zero, infinity or NaN is left unchanged. Returns NaN with a message,
/// leaving `x` unchanged, if `x` is null (or misaligned) while `n > 0`.
///
/// # Safety
/// `x` must point to `n` readable and writable floats (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_l2_normalize_f32(x: *mut f32, n: usize) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let x = unsafe { c_slice_mut(x, n, "x")? };
        Ok(kernels::l2_normalize_f32(x))
    })
}

/// Inner product of two i8 vectors of length `n`.
///
/// Exact for `n <= 65536`; longer inputs get the exact result modulo 2^32 (two's-complement
/// wrapping). Returns `FV_ERROR_I32` (`INT32_MIN`) with a message on null input while
/// `n > 0`.
///
/// # Safety
/// `a` and `b` must each point to `n` readable bytes (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_dot_i8(a: *const i8, b: *const i8, n: usize) -> i32 {
    guard(FV_ERROR_I32, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n, "a")?, c_slice(b, n, "b")?) };
        kernels::dot_i8(a, b)
    })
}

/// Squared Euclidean distance of two i8 vectors of length `n`.
///
/// Exact for `n <= 65536`; longer inputs get the exact result modulo 2^32. Returns
/// `FV_ERROR_U32` (`UINT32_MAX`) with a message on null input while `n > 0`.
///
/// # Safety
/// `a` and `b` must each point to `n` readable bytes (or be anything when `n = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_l2sq_i8(a: *const i8, b: *const i8, n: usize) -> u32 {
    guard(FV_ERROR_U32, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n, "a")?, c_slice(b, n, "b")?) };
        kernels::l2sq_i8(a, b)
    })
}

/// Hamming distance (number of differing bits) of two bit vectors packed in `n_bytes`
/// bytes each.
///
/// Returns `FV_ERROR_U32` (`UINT32_MAX`) with a message on null input while `n_bytes > 0`,
/// or if `n_bytes` exceeds 536870911 (the distance would not fit 32 bits).
///
/// # Safety
/// `a` and `b` must each point to `n_bytes` readable bytes (or be anything when
/// `n_bytes = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_hamming_b1(a: *const u8, b: *const u8, n_bytes: usize) -> u32 {
    guard(FV_ERROR_U32, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n_bytes, "a")?, c_slice(b, n_bytes, "b")?) };
        kernels::hamming_b1(a, b)
    })
}

/// Jaccard distance `1 - |a & b| / |a | b|` of two bit vectors packed in `n_bytes` bytes
/// each; 0 when both are all zeros.
///
/// Returns NaN with a message on null input while `n_bytes > 0`, or if `n_bytes` exceeds
/// 536870911.
///
/// # Safety
/// `a` and `b` must each point to `n_bytes` readable bytes (or be anything when
/// `n_bytes = 0`).
#[no_mangle]
pub unsafe extern "C" fn fv_jaccard_b1(a: *const u8, b: *const u8, n_bytes: usize) -> f32 {
    guard(f32::NAN, || {
        // SAFETY: forwarded from this function's contract.
        let (a, b) = unsafe { (c_slice(a, n_bytes, "a")?, c_slice(b, n_bytes, "b")?) };
        kernels::jaccard_b1(a, b)
    })
}

/// Scores one query against `n_rows` row-major rows of `dims` floats:
/// `out_scores[i] = metric(query, rows + i * dims)`, smaller is closer.
///
/// `metric` is one of `FV_METRIC_DOT` (negated inner product), `FV_METRIC_COSINE`,
/// `FV_METRIC_L2SQ`.
///
/// Returns `FV_OK` (0), or a negative `FV_ERR_*` code with a message: unknown metric, a null
/// pointer with a non-zero size, `n_rows * dims` overflowing, or `out_scores` overlapping
/// `query` or `rows`. On error `out_scores` is not written.
///
/// # Safety
/// `query` must point to `dims` readable floats, `rows` to `n_rows * dims` readable floats
/// and `out_scores` to `n_rows` writable floats (any pointer may be null when its size is 0).
#[no_mangle]
pub unsafe extern "C" fn fv_scan_f32(
    metric: i32,
    query: *const f32,
    rows: *const f32,
    n_rows: usize,
    dims: usize,
    out_scores: *mut f32,
) -> i32 {
    guard_status(|| {
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
        kernels::scan_f32(metric, query, rows, out)
    })
}

/// The instruction set the kernels use in this process: `"avx512"`, `"avx2"`, `"neon"`,
/// `"simd128"` or `"scalar"` (static, never null).
///
/// Chosen once at first use (the best the CPU supports), unless the `FERROVEC_ISA`
/// environment variable names another available one, or `fv_force_isa()` is called.
#[no_mangle]
pub extern "C" fn fv_isa_name() -> *const c_char {
    guard(c"scalar".as_ptr(), || {
        Ok(kernels::active_isa().c_name().as_ptr())
    })
}

/// Makes the named instruction set (as returned by `fv_isa_name()`) the one every kernel
/// uses from now on, process-wide. Meant for tests and benchmarks.
///
/// Returns `FV_OK`, or `FV_ERR_NULL_POINTER`, `FV_ERR_INVALID_ARGUMENT` (unknown name) or
/// `FV_ERR_UNSUPPORTED_ISA` (this CPU cannot run it), changing nothing.
///
/// # Safety
/// `name` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fv_force_isa(name: *const c_char) -> i32 {
    guard_status(|| {
        if name.is_null() {
            return Err(Error::NullPointer { arg: "name" });
        }
        // SAFETY: non-null, NUL-terminated by this function's contract.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let isa = Isa::from_name(&name)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown instruction set `{name}`")))?;
        kernels::force(isa)
    })
}
