//! Runs the wasm32 kernel test modules of `tests/wasm-kernels` in wasmi, the interpreter of
//! ferrovec's Interpreted backend (`make test-wasm-kernels` runs them in Node too):
//!
//! ```text
//! cargo run --release -p ferrovec --example wasm_kernel_tests -- MODULE.wasm...
//! ```
//!
//! Each module's `fv_test_run()` checks the f64 solver kernels, the f32 encoder kernels
//! (GEMM, softmax, LayerNorm, GELU) and the f32 scan (in both loop shapes) on every table it carries
//! (scalar-wasm, or scalar and simd128); a failed check traps after writing its message,
//! which is printed here. Exits with status 1 if any module failed.

use std::process::ExitCode;
use std::time::Instant;

use wasmi::{Config, Engine, Instance, Module, Store};

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: wasm_kernel_tests MODULE.wasm...");
        return ExitCode::FAILURE;
    }
    let mut status = ExitCode::SUCCESS;
    for path in &paths {
        let start = Instant::now();
        match run(path) {
            Ok((tables, names)) => println!(
                "wasmi: {path}: the f64 solver, f32 encoder, f32 scan and half-precision distance kernel checks passed on {tables} tables ({names}) in {} ms",
                start.elapsed().as_millis()
            ),
            Err(failure) => {
                eprintln!("wasmi: {path}: FAILED {failure}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}

/// The number of tables checked and their names, or the failure.
fn run(path: &str) -> Result<(i32, String), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut config = Config::default();
    config.wasm_simd(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, &bytes[..]).map_err(|e| format!("invalid module: {e}"))?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])
        .map_err(|e| format!("cannot instantiate it: {e}"))?;
    let export = |name: &str| format!("missing export {name}");
    let run = instance
        .get_typed_func::<(), i32>(&store, "fv_test_run")
        .map_err(|_| export("fv_test_run"))?;
    let message_at = instance
        .get_typed_func::<(), u32>(&store, "fv_test_message")
        .map_err(|_| export("fv_test_message"))?;
    let message_len = instance
        .get_typed_func::<(), u32>(&store, "fv_test_message_len")
        .map_err(|_| export("fv_test_message_len"))?;
    let memory = instance
        .get_memory(&store, "memory")
        .ok_or_else(|| export("memory"))?;

    let outcome = run.call(&mut store, ());
    let at = message_at.call(&mut store, ()).map_err(|e| e.to_string())? as usize;
    let len = message_len
        .call(&mut store, ())
        .map_err(|e| e.to_string())? as usize;
    let message = memory
        .data(&store)
        .get(at..at + len)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_else(|| "(message out of bounds)".to_string());
    match outcome {
        Ok(tables) if tables > 0 => Ok((tables, message)),
        Ok(_) => Err("no kernel table was checked".to_string()),
        Err(trap) => Err(format!("{message}\n  ({trap})")),
    }
}
