//! `cargo fuzz run tokenizer` (make fuzz): the body is [`ferrovec_fuzz::tokenizer`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::tokenizer(data));
