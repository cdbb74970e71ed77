// Runs the wasm32 kernel test modules (tests/wasm-kernels) in Node's V8:
//   node tests/wasm-kernels/run.mjs target/wasm/kernel-tests.wasm target/wasm/kernel-tests-simd.wasm
// Each module's fv_test_run() checks every kernel table it carries; a failed check traps
// after writing its message, which is printed here. Exit status 1 if any module failed.
import { readFile } from "node:fs/promises";

for (const path of process.argv.slice(2)) {
  const { instance } = await WebAssembly.instantiate(await readFile(path), {});
  const e = instance.exports;
  const message = () =>
    new TextDecoder().decode(
      new Uint8Array(e.memory.buffer, e.fv_test_message(), e.fv_test_message_len()),
    );
  const start = performance.now();
  try {
    const tables = e.fv_test_run();
    const ms = (performance.now() - start).toFixed(0);
    if (tables < 1) throw new Error("no kernel table was checked");
    console.log(`node: ${path}: the kernel checks (f64 solver, f32 encoder, f32 scan, half-precision distances) passed on ${tables} tables (${message()}) in ${ms} ms`);
  } catch (err) {
    console.error(`node: ${path}: FAILED ${message()}\n  (${err})`);
    process.exitCode = 1;
  }
}
