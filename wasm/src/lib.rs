//! ferrovec's wasm32 module. The ABI lands with the wasm issue; natively this crate is empty.
#![cfg_attr(target_arch = "wasm32", no_std)]
