//! `cargo fuzz run wasm_abi` (make fuzz): the body is [`ferrovec_fuzz::wasm_abi`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::wasm_abi(data));
