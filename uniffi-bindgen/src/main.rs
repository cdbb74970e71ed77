//! UniFFI's binding generator, built from the exact UniFFI version the `ferrovec` crate uses.
//!
//! ```text
//! uniffi-bindgen generate [--library] <LIB> --language <kotlin|python|swift|ruby>...
//!                         --out-dir <DIR> [--config <TOML>] [--no-format] [--crate <NAME>]
//!                         [--metadata-no-deps]
//! uniffi-bindgen swift <LIB> <OUT_DIR> [--swift-sources] [--headers] [--modulemap]
//!                      [--xcframework] [--module-name <NAME>] [--modulemap-filename <FILE>]
//!                      [--link-frameworks <NAME>]... [--config <TOML>] [--metadata-no-deps]
//! ```
//!
//! `generate` is UniFFI's `uniffi-bindgen generate`; `swift` is UniFFI's
//! `uniffi-bindgen-swift`, which writes one modulemap for every component of the library, the
//! shape an XCFramework needs.

use anyhow::{anyhow, bail, Context, Result};
use camino::Utf8PathBuf;
use uniffi_bindgen::bindings::{
    generate, generate_swift_bindings, GenerateOptions, SwiftBindingsOptions, TargetLanguage,
};

const USAGE: &str = "usage:
  uniffi-bindgen generate [--library] <LIB> --language <kotlin|python|swift|ruby>... \\
      --out-dir <DIR> [--config <TOML>] [--no-format] [--crate <NAME>] [--metadata-no-deps]
  uniffi-bindgen swift <LIB> <OUT_DIR> [--swift-sources] [--headers] [--modulemap] \\
      [--xcframework] [--module-name <NAME>] [--modulemap-filename <FILE>] \\
      [--link-frameworks <NAME>]... [--config <TOML>] [--metadata-no-deps]";

fn main() {
    if let Err(err) = run(std::env::args().skip(1).collect()) {
        eprintln!("uniffi-bindgen: {err:#}");
        std::process::exit(2);
    }
}

/// The command line as flags (with or without a value) and positional arguments.
struct Args {
    words: std::vec::IntoIter<String>,
    positional: Vec<String>,
}

impl Args {
    fn value(&mut self, flag: &str) -> Result<String> {
        self.words
            .next()
            .ok_or_else(|| anyhow!("{flag} needs a value"))
    }
}

fn run(argv: Vec<String>) -> Result<()> {
    let mut argv = argv.into_iter();
    let command = argv.next().unwrap_or_default();
    let mut args = Args {
        words: argv.collect::<Vec<_>>().into_iter(),
        positional: Vec::new(),
    };
    match command.as_str() {
        "generate" => run_generate(&mut args),
        "swift" => run_swift(&mut args),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n{USAGE}"),
    }
}

fn language(name: &str) -> Result<TargetLanguage> {
    Ok(match name {
        "kotlin" => TargetLanguage::Kotlin,
        "python" => TargetLanguage::Python,
        "swift" => TargetLanguage::Swift,
        "ruby" => TargetLanguage::Ruby,
        other => bail!("unknown language `{other}` (kotlin, python, swift, ruby)"),
    })
}

fn run_generate(args: &mut Args) -> Result<()> {
    let mut options = GenerateOptions {
        format: true,
        ..GenerateOptions::default()
    };
    let mut out_dir = None;
    while let Some(word) = args.words.next() {
        match word.as_str() {
            // Library mode is detected from the file; the flag is accepted for compatibility.
            "--library" => {}
            "--language" | "-l" => options.languages.push(language(&args.value(&word)?)?),
            "--out-dir" | "-o" => out_dir = Some(Utf8PathBuf::from(args.value(&word)?)),
            "--config" | "-c" => options.config_override = Some(args.value(&word)?.into()),
            "--no-format" | "-n" => options.format = false,
            "--crate" => options.crate_filter = Some(args.value(&word)?),
            "--metadata-no-deps" => options.metadata_no_deps = true,
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`\n{USAGE}"),
            _ => args.positional.push(word),
        }
    }
    let [source] = std::mem::take(&mut args.positional)
        .try_into()
        .map_err(|_| anyhow!("expected exactly one library path\n{USAGE}"))?;
    if options.languages.is_empty() {
        bail!("give at least one --language\n{USAGE}");
    }
    options.source = source.into();
    options.out_dir = out_dir.context("--out-dir is required")?;
    generate(options)
}

fn run_swift(args: &mut Args) -> Result<()> {
    let mut options = SwiftBindingsOptions {
        generate_swift_sources: false,
        generate_headers: false,
        generate_modulemap: false,
        source: Utf8PathBuf::new(),
        out_dir: Utf8PathBuf::new(),
        xcframework: false,
        module_name: None,
        modulemap_filename: None,
        metadata_no_deps: false,
        link_frameworks: Vec::new(),
        config: None,
    };
    while let Some(word) = args.words.next() {
        match word.as_str() {
            "--swift-sources" => options.generate_swift_sources = true,
            "--headers" => options.generate_headers = true,
            "--modulemap" => options.generate_modulemap = true,
            "--xcframework" => options.xcframework = true,
            "--module-name" => options.module_name = Some(args.value(&word)?),
            "--modulemap-filename" => options.modulemap_filename = Some(args.value(&word)?),
            "--link-frameworks" => options.link_frameworks.push(args.value(&word)?),
            "--config" | "-c" => options.config = Some(args.value(&word)?.into()),
            "--metadata-no-deps" => options.metadata_no_deps = true,
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`\n{USAGE}"),
            _ => args.positional.push(word),
        }
    }
    let [source, out_dir] = std::mem::take(&mut args.positional)
        .try_into()
        .map_err(|_| anyhow!("expected a library path and an output directory\n{USAGE}"))?;
    if !(options.generate_swift_sources || options.generate_headers || options.generate_modulemap) {
        bail!("give at least one of --swift-sources, --headers, --modulemap\n{USAGE}");
    }
    options.source = source.into();
    options.out_dir = out_dir.into();
    generate_swift_bindings(options)
}
