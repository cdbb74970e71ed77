//! `cargo fuzz run tokenizer_json` (make fuzz): the body is [`ferrovec_fuzz::tokenizer_json`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrovec_fuzz::tokenizer_json(data));
