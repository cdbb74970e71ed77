//! The host-kernels table: in the `host-kernels` build of the wasm module, every kernel is
//! an import from the module `"ferrovec_host"`, which the embedding host implements with its
//! native kernels (ferrovec's Interpreted backend does, `ffi/src/backend/host_kernels.rs`).
//!
//! The engine logic stays in the module (argument checks, the index, anything updated or
//! sandboxed at runtime) while the hot loops run at native speed. Pointers are offsets into
//! the module's exported `memory`; the host must bounds-check them (a bad one traps). The
//! imports and their wasm signatures (`usize`/pointers are `i32`, `u64` is `i64`):
//!
//! | import | signature |
//! |---|---|
//! | `fv_host_dot_f32`, `fv_host_l2sq_f32` | `(a, b, n) -> f32` |
//! | `fv_host_cosine_parts_f32` | `(a, b, n, out)`: writes `a.b`, `a.a`, `b.b` as 3 f32 at `out` |
//! | `fv_host_l2_normalize_f32` | `(x, n) -> f32`: normalizes in place, returns the norm |
//! | `fv_host_scan_f32` | `(metric, query, dims, rows, n_rows, out)`: writes `n_rows` f32 |
//! | `fv_host_dot_i8` | `(a, b, n) -> i32` |
//! | `fv_host_l2sq_i8` | `(a, b, n) -> i32` (a `u32`) |
//! | `fv_host_hamming_b1` | `(a, b, n_bytes) -> i64` |
//! | `fv_host_jaccard_b1` | `(a, b, n_bytes, out)`: writes intersection and union as 2 u64 |
//!
//! Callers have checked lengths (the core's `Kernels` methods do), so `n` is the common
//! length of both inputs.

use super::super::{CosineParts, Metric};

#[link(wasm_import_module = "ferrovec_host")]
unsafe extern "C" {
    fn fv_host_dot_f32(a: *const f32, b: *const f32, n: usize) -> f32;
    fn fv_host_l2sq_f32(a: *const f32, b: *const f32, n: usize) -> f32;
    fn fv_host_cosine_parts_f32(a: *const f32, b: *const f32, n: usize, out: *mut [f32; 3]);
    fn fv_host_l2_normalize_f32(x: *mut f32, n: usize) -> f32;
    fn fv_host_scan_f32(
        metric: i32,
        query: *const f32,
        dims: usize,
        rows: *const f32,
        n_rows: usize,
        out: *mut f32,
    );
    fn fv_host_dot_i8(a: *const i8, b: *const i8, n: usize) -> i32;
    fn fv_host_l2sq_i8(a: *const i8, b: *const i8, n: usize) -> u32;
    fn fv_host_hamming_b1(a: *const u8, b: *const u8, n: usize) -> u64;
    fn fv_host_jaccard_b1(a: *const u8, b: *const u8, n: usize, out: *mut [u64; 2]);
}

// SAFETY (every call below): the host reads `n` elements at each input pointer (within the
// slices, n being the common length) and writes only the output the import documents, which
// is a live local or `out`; a host that breaks that contract can only corrupt this sandbox.

pub(super) fn dot_f32_host(a: &[f32], b: &[f32]) -> f32 {
    unsafe { fv_host_dot_f32(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
}

pub(super) fn l2sq_f32_host(a: &[f32], b: &[f32]) -> f32 {
    unsafe { fv_host_l2sq_f32(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
}

pub(super) fn cosine_parts_f32_host(a: &[f32], b: &[f32]) -> CosineParts {
    let mut out = [0.0f32; 3];
    unsafe { fv_host_cosine_parts_f32(a.as_ptr(), b.as_ptr(), a.len().min(b.len()), &mut out) };
    let [ab, aa, bb] = out;
    CosineParts { ab, aa, bb }
}

pub(super) fn l2_normalize_f32_host(x: &mut [f32]) -> f32 {
    unsafe { fv_host_l2_normalize_f32(x.as_mut_ptr(), x.len()) }
}

pub(super) fn scan_f32_host(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    let dims = query.len();
    let n_rows = match dims {
        0 => 0,
        _ => out.len().min(rows.len() / dims),
    };
    unsafe {
        fv_host_scan_f32(
            metric.code(),
            query.as_ptr(),
            dims,
            rows.as_ptr(),
            n_rows,
            out.as_mut_ptr(),
        )
    }
}

pub(super) fn dot_i8_host(a: &[i8], b: &[i8]) -> i32 {
    unsafe { fv_host_dot_i8(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
}

pub(super) fn l2sq_i8_host(a: &[i8], b: &[i8]) -> u32 {
    unsafe { fv_host_l2sq_i8(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
}

pub(super) fn hamming_b1_host(a: &[u8], b: &[u8]) -> u64 {
    unsafe { fv_host_hamming_b1(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
}

pub(super) fn jaccard_b1_host(a: &[u8], b: &[u8]) -> (u64, u64) {
    let mut out = [0u64; 2];
    unsafe { fv_host_jaccard_b1(a.as_ptr(), b.as_ptr(), a.len().min(b.len()), &mut out) };
    (out[0], out[1])
}
