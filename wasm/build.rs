//! Link settings for the wasm32 module (nothing to do natively).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // The kernels need little stack; the default 1 MiB would make every instance
        // start with 17 pages of linear memory (it counts against a host's memory cap).
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=131072");
    }
}
