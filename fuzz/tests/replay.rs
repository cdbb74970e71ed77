//! Replays every committed seed-corpus file (`corpus/<target>/`) and crash reproducer
//! (`regressions/<target>/`) through the fuzz targets' bodies, as ordinary tests on a
//! stable compiler (`make test-fuzz-corpus`, part of `make test`).

use std::fs;
use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.expect("a directory entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let data = fs::read(&path).expect("a readable corpus file");
            eprintln!("{target}: {}", path.display());
            body(&data);
            n += 1;
        }
    }
    // A corpus that silently vanished would make this test pass on nothing.
    assert!(
        n >= 3,
        "{target}: only {n} corpus files; the seeds are committed"
    );
    eprintln!("{target}: replayed {n} files");
}

#[test]
fn index_load() {
    replay("index_load", ferrovec_fuzz::index_load);
}

#[test]
fn wasm_abi() {
    replay("wasm_abi", ferrovec_fuzz::wasm_abi);
}

#[test]
fn capi() {
    replay("capi", ferrovec_fuzz::capi);
}

#[test]
fn module_loader() {
    replay("module_loader", ferrovec_fuzz::module_loader);
}

#[test]
fn matrix_market() {
    replay("matrix_market", ferrovec_fuzz::matrix_market);
}

#[test]
fn csr() {
    replay("csr", ferrovec_fuzz::csr);
}

#[test]
fn encoder_files() {
    replay("encoder_files", ferrovec_fuzz::encoder_files);
}

#[test]
fn tokenizer() {
    replay("tokenizer", ferrovec_fuzz::tokenizer);
}

#[test]
fn tokenizer_json() {
    replay("tokenizer_json", ferrovec_fuzz::tokenizer_json);
}
