//! `cargo fuzz run module_loader` (make fuzz): the body is [`ferrovec_fuzz::module_loader`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::module_loader(data));
