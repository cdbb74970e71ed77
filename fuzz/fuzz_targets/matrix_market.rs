//! `cargo fuzz run matrix_market` (make fuzz): the body is [`ferrovec_fuzz::matrix_market`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::matrix_market(data));
