//! Tokenizes a file of texts with ferrovec's WordPiece tokenizer: the Rust half of the
//! tokenizer parity harness (`make test-tokenizer`, `tests/tokenizer/parity.py`).
//!
//! ```text
//! tokenize VOCAB_TXT INPUT OUTPUT [--lowercase 0|1] [--strip none|true|false]
//!          [--clean 0|1] [--chinese 0|1] [--words 1] [--bench SECONDS]
//! ```
//!
//! INPUT: records of `u32 max_tokens` (0: no truncation), `u32 length`, that many bytes (any
//! bytes: they go through `encode_bytes`), all little-endian. OUTPUT: per record, `u32 count`
//! and that many `u32` ids; with `--words 1`, the normalized words instead (`words`, after
//! the same lossy UTF-8 decoding): `u32 count`, then per word `u32 length` and its bytes. `--bench S` then encodes the whole input again and again for about
//! S seconds on one thread and prints texts/s and tokens/s (ids, [CLS]/[SEP] included).

use std::time::Instant;

use ferrovec_core::encoder::tokenizer::{NormalizerOptions, WordPieceOptions, WordPieceTokenizer};

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: tokenize VOCAB_TXT INPUT OUTPUT [options]".into());
    }
    let mut norm = NormalizerOptions::UNCASED;
    let mut bench = None;
    let mut words = false;
    let mut i = 4;
    while i + 1 < args.len() {
        let v = args[i + 1].as_str();
        match args[i].as_str() {
            "--lowercase" => norm.lowercase = v == "1",
            "--clean" => norm.clean_text = v == "1",
            "--chinese" => norm.handle_chinese_chars = v == "1",
            "--strip" => {
                norm.strip_accents = match v {
                    "none" => None,
                    "true" => Some(true),
                    _ => Some(false),
                }
            }
            "--words" => words = v == "1",
            "--bench" => bench = Some(v.parse::<f64>()?),
            other => return Err(format!("unknown option {other}").into()),
        }
        i += 2;
    }
    let options = WordPieceOptions {
        normalizer: norm,
        ..WordPieceOptions::default()
    };
    let tok = WordPieceTokenizer::from_vocab_txt(&std::fs::read(&args[1])?, options)?;
    let input = std::fs::read(&args[2])?;
    let mut records = Vec::new();
    let mut at = 0;
    while at < input.len() {
        let max = u32_at(&input, at).ok_or("truncated record")?;
        let len = u32_at(&input, at + 4).ok_or("truncated record")? as usize;
        let text = input.get(at + 8..at + 8 + len).ok_or("truncated record")?;
        records.push((if max == 0 { usize::MAX } else { max as usize }, text));
        at += 8 + len;
    }
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for &(max, text) in &records {
        if words {
            let w = tok.words(&String::from_utf8_lossy(text));
            out.extend_from_slice(&(w.len() as u32).to_le_bytes());
            for word in w {
                out.extend_from_slice(&(word.len() as u32).to_le_bytes());
                out.extend_from_slice(word.as_bytes());
            }
            continue;
        }
        tok.encode_bytes_into(text, max, &mut ids)?;
        out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        for id in &ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    std::fs::write(&args[3], out)?;
    if let Some(seconds) = bench {
        let (mut texts, mut tokens, mut bytes) = (0usize, 0usize, 0usize);
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < seconds {
            for &(max, text) in &records {
                tok.encode_bytes_into(text, max, &mut ids)?;
                tokens += ids.len();
                bytes += text.len();
            }
            texts += records.len();
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "ferrovec: {} texts, {:.0} texts/s, {:.3} M tokens/s, {:.1} MB/s",
            records.len(),
            texts as f64 / s,
            tokens as f64 / s / 1e6,
            bytes as f64 / s / 1e6
        );
    }
    Ok(())
}
