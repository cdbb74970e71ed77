//! File helpers shared by the engines' `save` / `load` methods.

use std::fs;
use std::io::Write;
use std::path::Path;

use ferrovec_core::Error;

/// An I/O failure as ferrovec reports it: [`Error::InvalidArgument`] naming the path and
/// the OS error.
pub(crate) fn io_error(what: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::InvalidArgument(format!("cannot {what} {}: {err}", path.display()))
}

/// Reads a whole file, failures reported by [`io_error`].
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|e| io_error("read", path, &e))
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, then renamed over `path`, so a crash leaves either the old file or the
/// new one, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidArgument(format!("{} is not a file path", path.display())))?;
    // Unique per process and call, so concurrent saves to one path do not share a temp file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = fs::File::create(&tmp).map_err(|e| io_error("create", &tmp, &e))?;
        file.write_all(bytes)
            .map_err(|e| io_error("write", &tmp, &e))?;
        file.sync_all().map_err(|e| io_error("sync", &tmp, &e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| io_error("rename onto", path, &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
