//! `cargo fuzz run capi` (make fuzz): the body is [`ferrovec_fuzz::capi`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::capi(data));
