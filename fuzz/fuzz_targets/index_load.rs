//! `cargo fuzz run index_load` (make fuzz): the body is [`ferrovec_fuzz::index_load`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::index_load(data));
