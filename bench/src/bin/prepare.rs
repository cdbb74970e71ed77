//! Splits the real set into base rows and 1,000 held-out queries and computes the exact
//! top-100 ground truth, caching the result next to `embed.py`'s output (idempotent: an
//! existing, consistent split is kept). Run by `bench/data/prepare.sh`.
//!
//! Usage: prepare [--force] [DATA_DIR]   (default: $FERROVEC_DATA or ~/.cache/ferrovec)

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ferrovec_bench::{data_dir, debian_is_prepared, prepare_debian, DebianFiles};

fn main() -> ExitCode {
    let mut force = false;
    let mut dir = data_dir();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--force" => force = true,
            "-h" | "--help" => {
                println!("usage: prepare [--force] [DATA_DIR]");
                return ExitCode::SUCCESS;
            }
            other => dir = PathBuf::from(other),
        }
    }
    let files = DebianFiles::in_dir(&dir);
    if !files.source.exists() {
        eprintln!(
            "{} is missing: produce it with bench/data/prepare.sh (embeds the Debian package descriptions)",
            files.source.display()
        );
        return ExitCode::FAILURE;
    }
    if !force && debian_is_prepared(&files) {
        println!("split and ground truth already in {}", dir.display());
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    match prepare_debian(&files) {
        Ok(data) => {
            println!(
                "{}: {} base rows, {} queries, ground truth top-100 in {:.1} s -> {}",
                files.source.display(),
                data.n_base(),
                data.n_queries(),
                start.elapsed().as_secs_f64(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("prepare: {e}");
            ExitCode::FAILURE
        }
    }
}
