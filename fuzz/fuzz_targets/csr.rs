//! `cargo fuzz run csr` (make fuzz): the body is [`ferrovec_fuzz::csr`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::csr(data));
