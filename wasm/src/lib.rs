//! ferrovec's wasm32 module. The ABI lands with the wasm issue; natively this crate is empty.
#![no_std]
