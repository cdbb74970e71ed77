//! `cargo fuzz run encoder_files` (make fuzz): the body is [`ferrovec_fuzz::encoder_files`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::encoder_files(data));
