//! The checks of the f64 solver kernels (`core/tests/support/sparse_cases.rs`, the same ones
//! `core/tests/sparse_kernels.rs` runs natively) and of the f32 encoder kernels
//! (`core/tests/support/dense_cases.rs`, as `core/tests/dense_kernels.rs`: GEMM, softmax,
//! LayerNorm, GELU), of the f32 scan in both its loop shapes (`core/tests/support/scan_cases.rs`,
//! as `core/tests/kernels.rs`) and of the half-precision distance kernels (`core/tests/support/
//! half_cases.rs`, as `core/tests/half_kernels.rs`) compiled into a wasm32 module, so that the
//! tables a wasm build carries (scalar-wasm, or scalar and simd128) are tested where they
//! run: `make test-wasm-kernels` builds the module twice (with and without simd128) and runs
//! both in Node (`run.mjs`) and in wasmi (`cargo run -p ferrovec --example wasm_kernel_tests`),
//! then a third time with relaxed-simd (the encoder module's build), run in Node.
//!
//! Exports (no imports):
//!
//! * `fv_test_run() -> i32`: every check on every kernel table of the module; returns the
//!   number of tables checked. A failed check panics, and the panic handler writes the panic
//!   message to the message buffer before it traps.
//! * `fv_test_message() -> *const u8`, `fv_test_message_len() -> usize`: after a trap, the
//!   failure; after a run, the names of the tables checked (UTF-8).
//!
//! Natively the crate is empty: the checks run through `cargo test -p ferrovec-core`.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
#[path = "../../core/tests/support/sparse_cases.rs"]
mod cases;

#[cfg(target_arch = "wasm32")]
#[path = "../../core/tests/support/dense_cases.rs"]
mod dense_cases;

#[cfg(target_arch = "wasm32")]
#[path = "../../core/tests/support/half_cases.rs"]
mod half_cases;

#[cfg(target_arch = "wasm32")]
#[path = "../../core/tests/support/scan_cases.rs"]
mod scan_cases;

#[cfg(target_arch = "wasm32")]
mod module {
    use core::cell::UnsafeCell;
    use core::fmt::Write;

    use ferrovec_core::kernels::Kernels;

    use super::{cases, dense_cases, half_cases, scan_cases};

    #[global_allocator]
    static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    /// The message buffer: the failure, or the tables checked.
    struct Message {
        bytes: UnsafeCell<[u8; 4096]>,
        len: UnsafeCell<usize>,
    }

    // SAFETY: a wasm module without the `atomics` feature has one thread.
    unsafe impl Sync for Message {}

    static MESSAGE: Message = Message {
        bytes: UnsafeCell::new([0; 4096]),
        len: UnsafeCell::new(0),
    };

    /// Appends to the message, truncating at the buffer's end.
    struct Writer;

    impl Write for Writer {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            // SAFETY: one thread, and no reference to the buffer outlives this call.
            unsafe {
                let (bytes, len) = (&mut *MESSAGE.bytes.get(), &mut *MESSAGE.len.get());
                let n = s.len().min(bytes.len() - *len);
                bytes[*len..*len + n].copy_from_slice(&s.as_bytes()[..n]);
                *len += n;
            }
            Ok(())
        }
    }

    fn clear() {
        // SAFETY: as in `Writer::write_str`.
        unsafe { *MESSAGE.len.get() = 0 };
    }

    /// Runs every check on every table; see the crate docs.
    #[no_mangle]
    pub extern "C" fn fv_test_run() -> i32 {
        clear();
        cases::csr_validation();
        let mut tables = 0;
        for k in Kernels::variants() {
            clear();
            let _ = write!(Writer, "while checking {}: ", k.variant());
            cases::all(k);
            dense_cases::all(k);
            half_cases::all(k);
            // Only the encoder module is shipped with relaxed-simd. There LLVM may also turn
            // the `pmin`/`pmax` selects into `relaxed_min`/`relaxed_max`, whose result for a
            // NaN is the engine's choice, so the scan's NaN cases (the scan and the
            // single-vector kernel agree bit for bit) do not hold in such a build.
            #[cfg(not(target_feature = "relaxed-simd"))]
            scan_cases::all(k);
            tables += 1;
        }
        clear();
        for (i, k) in Kernels::variants().enumerate() {
            let _ = write!(Writer, "{}{}", if i > 0 { ", " } else { "" }, k.variant());
        }
        if cfg!(target_feature = "relaxed-simd") {
            let _ = write!(Writer, "; relaxed-simd build: no scan checks");
        }
        tables
    }

    /// Where the message starts in linear memory.
    #[no_mangle]
    pub extern "C" fn fv_test_message() -> *const u8 {
        MESSAGE.bytes.get().cast()
    }

    /// The message's length in bytes.
    #[no_mangle]
    pub extern "C" fn fv_test_message_len() -> usize {
        // SAFETY: as in `Writer::write_str`.
        unsafe { *MESSAGE.len.get() }
    }

    /// A failed check: its message goes after "while checking <table>: ", then trap.
    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        let _ = write!(Writer, "{info}");
        core::arch::wasm32::unreachable()
    }
}
