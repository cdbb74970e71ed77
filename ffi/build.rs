//! With the `bundled-wasm` feature, points `include_bytes!` at the modules `make wasm`
//! builds, and fails the build with instructions if they are missing. Also refuses the one
//! build configuration in which wasmi 2.0 crashes (see `check_wasmi_dispatch`).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=FERROVEC_WASM_DIR");
    check_wasmi_dispatch();
    if env::var_os("CARGO_FEATURE_BUNDLED_WASM").is_none() {
        return;
    }
    // `make wasm` writes target/wasm/ at the workspace root; FERROVEC_WASM_DIR overrides it.
    let dir = match env::var_os("FERROVEC_WASM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
            manifest.join("..").join("target").join("wasm")
        }
    };
    for (file, var) in [
        ("ferrovec.wasm", "FERROVEC_WASM_SCALAR"),
        ("ferrovec-simd.wasm", "FERROVEC_WASM_SIMD"),
        ("ferrovec-solver.wasm", "FERROVEC_WASM_SOLVER_SCALAR"),
        ("ferrovec-solver-simd.wasm", "FERROVEC_WASM_SOLVER_SIMD"),
        ("ferrovec-encoder.wasm", "FERROVEC_WASM_ENCODER_SCALAR"),
        ("ferrovec-encoder-simd.wasm", "FERROVEC_WASM_ENCODER_SIMD"),
    ] {
        let path = dir.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        if !path.is_file() {
            panic!(
                "\n\nthe `bundled-wasm` feature embeds {file}, which is not at {}.\n\
                 Build the modules first with `make wasm` (or set FERROVEC_WASM_DIR to the \
                 directory holding the six modules), or build without \
                 the feature and pass module bytes to InterpretedOptions::module.\n\n",
                path.display()
            );
        }
        let path = path.canonicalize().expect("the file exists");
        println!("cargo::rustc-env={var}={}", path.display());
    }
}

/// wasmi 2.0 dispatches by tail calls when optimizing (opt-level 2, 3, s, z) and by a loop
/// otherwise. With debug assertions on, LLVM does not turn those calls into jumps, so a long
/// wasm loop overflows the native stack and aborts the process instead of running or
/// running out of fuel (wasmi issue 2039; `an_endless_loop_stops_at_the_budget` in
/// ffi/tests/interpreted.rs reproduces it). Plain debug builds (opt-level 0) and release
/// builds are fine; for the mix, the `portable-dispatch` feature selects the loop.
fn check_wasmi_dispatch() {
    let optimizing = matches!(env::var("OPT_LEVEL").as_deref(), Ok("2" | "3" | "s" | "z"));
    let debug_assertions = env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let portable = env::var_os("CARGO_FEATURE_PORTABLE_DISPATCH").is_some();
    if optimizing && debug_assertions && !portable {
        panic!(
            "\n\nferrovec: this profile optimizes with debug assertions on, where wasmi 2.0's \
             tail-call dispatch can overflow the stack (wasmi issue 2039). Enable ferrovec's \
             `portable-dispatch` feature, or turn debug assertions off for this profile.\n\n"
        );
    }
}
