//! Embeds a text file, one text per non-empty line, with ferrovec's encoder on every core
//! and writes the vectors as a numpy `.npy` file ((n, dims) little-endian f32, unit rows):
//! what `bench/data/prepare.sh` uses to embed the Debian set for `make bench-index`
//! (60,021 descriptions: 8.9 min on 2 cores shared with other jobs, ~4.3 min at the
//! demo's 235 texts/s on 2 idle cores, against 15-25 min with numpy).
//!
//! `cargo run --release -p ferrovec --example embed_file -- MODEL_DIR TEXTS.txt OUT.npy`
//! (lines as `embed.py` reads them: blank lines skipped, the newline stripped).

use std::io::Write;
use std::time::Instant;

use ferrovec::{Encoder, Engine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, texts, out] = &args[..] else {
        return Err("usage: embed_file MODEL_DIR TEXTS.txt OUT.npy".into());
    };
    let encoder = Encoder::load(&Engine::native(), model)?.with_threads(0);
    let text = std::fs::read_to_string(texts)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let dims = encoder.dims();
    let start = Instant::now();
    let mut vectors = Vec::with_capacity(lines.len() * dims);
    for (i, chunk) in lines.chunks(4096).enumerate() {
        vectors.extend(encoder.embed_flat(chunk)?);
        eprintln!(
            "embed_file: {} of {} texts, {:.0} s",
            (i * 4096 + chunk.len()),
            lines.len(),
            start.elapsed().as_secs_f64()
        );
    }
    // .npy version 1.0: magic, header length, a Python dict literal padded with spaces to a
    // multiple of 64 bytes (newline last), then the data.
    let dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {dims}), }}",
        lines.len()
    );
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut bytes = Vec::with_capacity(10 + header.len() + vectors.len() * 4);
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in &vectors {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let tmp = format!("{out}.partial");
    std::fs::File::create(&tmp)?.write_all(&bytes)?;
    std::fs::rename(&tmp, out)?;
    println!(
        "embed_file: {} texts x {dims} in {:.1} s on {} threads (model id {:016x}) -> {out}",
        lines.len(),
        start.elapsed().as_secs_f64(),
        encoder.threads(),
        encoder.model_id()
    );
    Ok(())
}
