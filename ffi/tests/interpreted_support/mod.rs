//! Shared by the Interpreted backend's tests: the modules `make wasm` builds, and small
//! hand-written modules for the error paths.

#![allow(dead_code)] // each test crate uses a different part

use std::path::PathBuf;

use ferrovec::backend::BundledModule;

/// The bytes of a module built by `make wasm`, or `None` (with a loud note) if it has not
/// been built. `make test` sets `FERROVEC_REQUIRE_WASM=1`, which turns a missing module into
/// a failure, so nothing is silently skipped there.
pub fn built_module(which: BundledModule) -> Option<Vec<u8>> {
    built_file(which.file_name())
}

/// [`built_module`] for any file `make wasm` writes to target/wasm (the encoder modules).
pub fn built_file(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm")
        .join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            let required = std::env::var_os("FERROVEC_REQUIRE_WASM").is_some_and(|v| v == "1");
            assert!(
                !required,
                "{} is required (FERROVEC_REQUIRE_WASM=1) but unreadable: {err}; run `make wasm`",
                path.display()
            );
            eprintln!(
                "SKIPPING the checks that need {}: {err} (run `make wasm`)",
                path.display()
            );
            None
        }
    }
}

/// A tiny module in the text format that implements ABI v2's kernels (not its index
/// functions) badly or partly, to reach the
/// host's error paths. Every field changes one thing from a minimal working module.
pub struct FakeModule {
    /// What `fv_abi_version` returns.
    pub abi: u32,
    /// Adds an import.
    pub import: bool,
    /// Leaves out the export of this name.
    pub skip: Option<&'static str>,
    /// Body of `fv_dot_f32 (param $a i32) (param $b i32) (param $n i32) (result f32)`.
    pub dot_body: &'static str,
    /// Body of `fv_alloc (param $size i32) (result i32)`; `None`: a bump allocator that
    /// grows memory and returns 0 when it cannot.
    pub alloc_body: Option<&'static str>,
    /// The text `fv_last_error` points at.
    pub message: &'static str,
    /// Initial memory in 64 KiB pages.
    pub pages: u32,
    /// Adds a start function.
    pub start: bool,
    /// More module fields (globals, functions), in the text format.
    pub extra: &'static str,
}

impl Default for FakeModule {
    fn default() -> Self {
        FakeModule {
            abi: 3,
            import: false,
            skip: None,
            dot_body: "(f32.const 42)",
            alloc_body: None,
            message: "",
            pages: 2,
            start: false,
            extra: "",
        }
    }
}

const BUMP_ALLOC: &str = r#"
    (local $p i32) (local $need i32)
    (local.set $p (global.get $next))
    (local.set $need (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 15))
                              (i32.const -16)))
    (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $need)
                                                              (i32.mul (memory.size) (i32.const 65536)))
                                                     (i32.const 16))
                                          (i32.const 1)))
                    (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $need))
    (local.get $p)"#;

impl FakeModule {
    /// The module as wasm bytes.
    pub fn wasm(&self) -> Vec<u8> {
        let alloc = self.alloc_body.unwrap_or(BUMP_ALLOC);
        let funcs: Vec<(&str, String)> = vec![
            (
                "fv_abi_version",
                format!(
                    "(func (export \"fv_abi_version\") (result i32) (i32.const {}))",
                    self.abi
                ),
            ),
            (
                "fv_capabilities",
                "(func (export \"fv_capabilities\") (result i32) (i32.const 0))".into(),
            ),
            (
                "fv_alloc",
                format!("(func (export \"fv_alloc\") (param $size i32) (result i32) {alloc})"),
            ),
            (
                "fv_free",
                "(func (export \"fv_free\") (param i32 i32))".into(),
            ),
            (
                "fv_last_error",
                "(func (export \"fv_last_error\") (param i32) (result i32) (i32.const 16))".into(),
            ),
            (
                "fv_dot_f32",
                format!(
                    "(func (export \"fv_dot_f32\") (param $a i32) (param $b i32) (param $n i32) \
                     (result f32) {})",
                    self.dot_body
                ),
            ),
            (
                "fv_cosine_distance_f32",
                pair("fv_cosine_distance_f32", "f32"),
            ),
            ("fv_l2sq_f32", pair("fv_l2sq_f32", "f32")),
            ("fv_dot_i8", pair("fv_dot_i8", "i32")),
            ("fv_l2sq_i8", pair("fv_l2sq_i8", "i32")),
            ("fv_hamming_b1", pair("fv_hamming_b1", "i32")),
            ("fv_jaccard_b1", pair("fv_jaccard_b1", "f32")),
            (
                "fv_scan_f32",
                "(func (export \"fv_scan_f32\") (param i32 i32 i32 i32 i32 i32) (result i32) \
                 (i32.const 0))"
                    .into(),
            ),
        ];
        let mut text = String::from("(module\n");
        if self.import {
            text.push_str("(import \"env\" \"clock\" (func (result i64)))\n");
        }
        if self.skip != Some("memory") {
            text.push_str(&format!("(memory (export \"memory\") {})\n", self.pages));
        } else {
            text.push_str(&format!("(memory {})\n", self.pages));
        }
        text.push_str("(global $next (mut i32) (i32.const 4096))\n");
        let message = self.message.replace('"', "\\\"");
        text.push_str(&format!("(data (i32.const 16) \"{message}\\00\")\n"));
        for (name, func) in funcs {
            if self.skip != Some(name) {
                text.push_str(&func);
                text.push('\n');
            }
        }
        if self.start {
            text.push_str("(func $init) (start $init)\n");
        }
        text.push_str(self.extra);
        text.push(')');
        wat::parse_str(&text).unwrap_or_else(|e| panic!("bad test module: {e}\n{text}"))
    }
}

fn pair(name: &str, result: &str) -> String {
    format!("(func (export \"{name}\") (param i32 i32 i32) (result {result}) ({result}.const 0))")
}
