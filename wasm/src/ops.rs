//! The bodies of the ABI's kernel functions, over any [`Memory`]: checked here, natively
//! unit-tested, and exported on wasm32 by `abi.rs`, which only adds the error reporting.

use alloc::format;

use ferrovec_core::kernels::{self, Metric};
use ferrovec_core::{Error, Result};

use crate::memory::{check_disjoint, Memory};

/// Borrows two inputs of `n` elements each.
///
/// # Safety
/// See [`Memory::slice`]: valid for the duration of one ABI call.
unsafe fn pair<T, M: Memory>(mem: &M, a: u32, b: u32, n: u32) -> Result<(&[T], &[T])> {
    let (ra, rb) = (mem.region::<T>(a, n, "a")?, mem.region::<T>(b, n, "b")?);
    // SAFETY: checked regions; inputs are only read; per this function's contract.
    Ok(unsafe { (mem.slice(ra), mem.slice(rb)) })
}

/// `fv_dot_f32`.
pub fn dot_f32(mem: &impl Memory, a: u32, b: u32, n: u32) -> Result<f32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<f32, _>(mem, a, b, n)? };
    kernels::dot_f32(a, b)
}

/// `fv_cosine_distance_f32`.
pub fn cosine_distance_f32(mem: &impl Memory, a: u32, b: u32, n: u32) -> Result<f32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<f32, _>(mem, a, b, n)? };
    kernels::cosine_distance_f32(a, b)
}

/// `fv_l2sq_f32`.
pub fn l2sq_f32(mem: &impl Memory, a: u32, b: u32, n: u32) -> Result<f32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<f32, _>(mem, a, b, n)? };
    kernels::l2sq_f32(a, b)
}

/// `fv_dot_i8`.
pub fn dot_i8(mem: &impl Memory, a: u32, b: u32, n: u32) -> Result<i32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<i8, _>(mem, a, b, n)? };
    kernels::dot_i8(a, b)
}

/// `fv_l2sq_i8`.
pub fn l2sq_i8(mem: &impl Memory, a: u32, b: u32, n: u32) -> Result<u32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<i8, _>(mem, a, b, n)? };
    kernels::l2sq_i8(a, b)
}

/// `fv_hamming_b1`.
pub fn hamming_b1(mem: &impl Memory, a: u32, b: u32, n_bytes: u32) -> Result<u32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<u8, _>(mem, a, b, n_bytes)? };
    kernels::hamming_b1(a, b)
}

/// `fv_jaccard_b1`.
pub fn jaccard_b1(mem: &impl Memory, a: u32, b: u32, n_bytes: u32) -> Result<f32> {
    // SAFETY: the slices live for this call only.
    let (a, b) = unsafe { pair::<u8, _>(mem, a, b, n_bytes)? };
    kernels::jaccard_b1(a, b)
}

/// `fv_scan_f32`: checks in the C ABI's order (metric, size overflow, each pointer, then
/// aliasing of the output), and writes `out` only on success.
pub fn scan_f32(
    mem: &impl Memory,
    metric: i32,
    query: u32,
    rows: u32,
    n_rows: u32,
    dims: u32,
    out: u32,
) -> Result<()> {
    let metric = Metric::from_code(metric)?;
    let total = n_rows.checked_mul(dims).ok_or_else(|| {
        Error::InvalidArgument(format!("n_rows ({n_rows}) * dims ({dims}) overflows"))
    })?;
    let rq = mem.region::<f32>(query, dims, "query")?;
    let rr = mem.region::<f32>(rows, total, "rows")?;
    let ro = mem.region::<f32>(out, n_rows, "out")?;
    check_disjoint(ro, "out", rr, "rows")?;
    check_disjoint(ro, "out", rq, "query")?;
    // SAFETY: checked regions; `out` shares no byte with the inputs (checked above); the
    // slices live for this call only.
    let (query, rows, out) = unsafe { (mem.slice(rq), mem.slice(rr), mem.slice_mut(ro)) };
    kernels::scan_f32(metric, query, rows, out)
}

/// `fv_set_engine_hint`: 0 a compiler, 1 an interpreter (`kernels::EngineHint`).
pub fn set_engine_hint(hint: u32) -> Result<()> {
    kernels::set_engine_hint(match hint {
        0 => kernels::EngineHint::Compiler,
        1 => kernels::EngineHint::Interpreter,
        _ => {
            return Err(Error::InvalidArgument(format!(
                "engine hint {hint}: expected 0 (compiler) or 1 (interpreter)"
            )))
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::TestMemory;
    use alloc::vec::Vec;

    fn floats(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.37 + seed).sin()).collect()
    }

    #[test]
    fn engine_hint_takes_0_and_1_only() {
        assert!(set_engine_hint(1).is_ok());
        assert_eq!(kernels::engine_hint(), kernels::EngineHint::Interpreter);
        for bad in [2, 10, u32::MAX] {
            assert!(matches!(
                set_engine_hint(bad),
                Err(Error::InvalidArgument(_))
            ));
            // A refused value changes nothing.
            assert_eq!(kernels::engine_hint(), kernels::EngineHint::Interpreter);
        }
        assert!(set_engine_hint(0).is_ok());
        assert_eq!(kernels::engine_hint(), kernels::EngineHint::Compiler);
    }

    #[test]
    fn kernels_read_the_right_bytes() {
        let mem = TestMemory::new(4096);
        let (a, b) = (floats(37, 0.1), floats(37, 2.0));
        mem.write(16, &a);
        mem.write(1024, &b);
        assert_eq!(
            dot_f32(&mem, 16, 1024, 37).unwrap(),
            kernels::dot_f32(&a, &b).unwrap()
        );
        assert_eq!(
            cosine_distance_f32(&mem, 16, 1024, 37).unwrap(),
            kernels::cosine_distance_f32(&a, &b).unwrap()
        );
        assert_eq!(
            l2sq_f32(&mem, 16, 1024, 37).unwrap(),
            kernels::l2sq_f32(&a, &b).unwrap()
        );

        let (x, y): (Vec<i8>, Vec<i8>) = (
            (0..99).map(|i| (i as i8).wrapping_mul(3)).collect(),
            (0..99).map(|i| -128 + i as i8).collect(),
        );
        mem.write(2001, &x);
        mem.write(3003, &y);
        assert_eq!(
            dot_i8(&mem, 2001, 3003, 99).unwrap(),
            kernels::dot_i8(&x, &y).unwrap()
        );
        assert_eq!(
            l2sq_i8(&mem, 2001, 3003, 99).unwrap(),
            kernels::l2sq_i8(&x, &y).unwrap()
        );
        let (p, q) = (
            x.iter().map(|&v| v as u8).collect::<Vec<_>>(),
            y.iter().map(|&v| v as u8).collect::<Vec<_>>(),
        );
        assert_eq!(
            hamming_b1(&mem, 2001, 3003, 99).unwrap(),
            kernels::hamming_b1(&p, &q).unwrap()
        );
        assert_eq!(
            jaccard_b1(&mem, 2001, 3003, 99).unwrap(),
            kernels::jaccard_b1(&p, &q).unwrap()
        );
    }

    #[test]
    fn empty_inputs_accept_any_pointer() {
        let mem = TestMemory::new(64);
        assert_eq!(dot_f32(&mem, 0, 0, 0).unwrap(), 0.0);
        assert_eq!(cosine_distance_f32(&mem, 0, 999_999, 0).unwrap(), 0.0);
        assert_eq!(hamming_b1(&mem, 3, 0, 0).unwrap(), 0);
        assert_eq!(scan_f32(&mem, 0, 0, 0, 0, 0, 0), Ok(()));
        // No rows: only the query is read.
        mem.write(8, &[1.0f32; 7]);
        assert_eq!(scan_f32(&mem, 1, 8, 0, 0, 7, 0), Ok(()));
    }

    #[test]
    fn pointer_errors() {
        let mem = TestMemory::new(256);
        assert_eq!(
            dot_f32(&mem, 0, 16, 4),
            Err(Error::NullPointer { arg: "a" })
        );
        assert_eq!(
            dot_f32(&mem, 16, 0, 4),
            Err(Error::NullPointer { arg: "b" })
        );
        assert_eq!(
            l2sq_f32(&mem, 18, 32, 4).unwrap_err().code(),
            -3,
            "misaligned"
        );
        assert_eq!(
            dot_i8(&mem, 250, 8, 7).unwrap_err().code(),
            -3,
            "out of bounds"
        );
        assert_eq!(
            jaccard_b1(&mem, 8, u32::MAX, 2).unwrap_err().code(),
            -3,
            "wraps"
        );
    }

    fn scan_setup() -> (TestMemory, Vec<f32>, Vec<f32>) {
        let mem = TestMemory::new(4096);
        let (q, rows) = (floats(8, 0.5), floats(8 * 5, 1.5));
        mem.write(16, &q);
        mem.write(64, &rows);
        (mem, q, rows)
    }

    #[test]
    fn scan_matches_core_for_every_metric() {
        let (mem, q, rows) = scan_setup();
        for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
            scan_f32(&mem, metric.code(), 16, 64, 5, 8, 1024).unwrap();
            let mut want = [0.0f32; 5];
            kernels::scan_f32(metric, &q, &rows, &mut want).unwrap();
            assert_eq!(mem.read::<f32>(1024, 5), want);
        }
    }

    #[test]
    fn scan_errors_leave_out_untouched() {
        let (mem, _, _) = scan_setup();
        let sentinel = [7.0f32; 5];
        mem.write(1024, &sentinel);
        let cases: [(i32, u32, u32, u32, u32, u32, i32); 8] = [
            (3, 16, 64, 5, 8, 1024, -4),             // unknown metric
            (-1, 16, 64, 5, 8, 1024, -4),            // unknown metric
            (0, 16, 64, 1 << 16, 1 << 16, 1024, -3), // n_rows * dims overflows
            (0, 0, 64, 5, 8, 1024, -1),              // null query
            (1, 16, 0, 5, 8, 1024, -1),              // null rows
            (2, 16, 64, 5, 8, 0, -1),                // null out
            (0, 16, 64, 5, 8, 100, -3),              // out overlaps rows
            (0, 16, 64, 5, 8, 1026, -3),             // out misaligned
        ];
        for (metric, query, rows, n_rows, dims, out, code) in cases {
            let err = scan_f32(&mem, metric, query, rows, n_rows, dims, out).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
            assert_eq!(mem.read::<f32>(1024, 5), sentinel);
        }
        // Out overlapping the query.
        assert_eq!(scan_f32(&mem, 0, 16, 64, 2, 8, 20).unwrap_err().code(), -3);
        // Rows past the end of memory.
        assert_eq!(
            scan_f32(&mem, 0, 16, 4000, 5, 8, 1024).unwrap_err().code(),
            -3
        );
    }
}
