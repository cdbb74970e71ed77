//! Just enough of NumPy's `.npy` format (versions 1-3, C order, little-endian `<f4` / `<i4`
//! / `<u4`) to read the embedding files `embed.py` writes and to cache splits and ground
//! truth next to them.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::BenchError;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Element types this module reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`
    F32,
    /// `<i4`
    I32,
    /// `<u4`
    U32,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::I32 => "<i4",
            Dtype::U32 => "<u4",
        }
    }
}

/// A 2-D array as stored: its dtype, shape (rows, cols) and raw little-endian bytes.
#[derive(Debug)]
pub struct Array2 {
    /// Element type.
    pub dtype: Dtype,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows * cols * 4` bytes, little-endian, row-major.
    pub bytes: Vec<u8>,
}

impl Array2 {
    /// The elements as f32 (error unless the dtype is `<f4`).
    pub fn to_f32(&self) -> Result<Vec<f32>, BenchError> {
        if self.dtype != Dtype::F32 {
            return Err(BenchError::new(format!(
                "expected <f4, found {}",
                self.dtype.descr()
            )));
        }
        Ok(self
            .bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    /// The elements as u32 (`<u4`, or non-negative `<i4`).
    pub fn to_u32(&self) -> Result<Vec<u32>, BenchError> {
        match self.dtype {
            Dtype::U32 => Ok(self
                .bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            Dtype::I32 => self
                .bytes
                .chunks_exact(4)
                .map(|b| {
                    let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    u32::try_from(v).map_err(|_| BenchError::new(format!("negative index {v}")))
                })
                .collect(),
            Dtype::F32 => Err(BenchError::new("expected an integer array, found <f4")),
        }
    }
}

/// Parses the header of `.npy` bytes: (dtype, rows, cols) plus where the body starts.
fn parse_header(data: &[u8]) -> Result<((Dtype, usize), usize, usize), BenchError> {
    let bad = |why: &str| BenchError::new(format!("not a supported .npy file: {why}"));
    if data.len() < 10 || &data[..6] != MAGIC {
        return Err(bad("no magic"));
    }
    let (header_len, start) = match data[6] {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 if data.len() >= 12 => (
            u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize,
            12,
        ),
        v => return Err(bad(&format!("version {v}"))),
    };
    let header = data
        .get(start..start + header_len)
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("no descr"))?;
    let dtype = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => Dtype::F32,
        "<i4" => Dtype::I32,
        "<u4" => Dtype::U32,
        other => return Err(bad(&format!("dtype {other}"))),
    };
    if dict_value(header, "fortran_order") != Some("False") {
        return Err(bad("not C order"));
    }
    let shape = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|s| s.trim().trim_start_matches('('))
        .ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("shape")))
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims[..] {
        [r, c] => (r, c),
        [r] => (r, 1),
        _ => return Err(bad("not 2-D")),
    };
    Ok(((dtype, start + header_len), rows, cols))
}

/// Parses `.npy` bytes holding a 2-D (or 1-D, read as one column) C-order array of 4-byte
/// little-endian elements.
pub fn parse(data: &[u8]) -> Result<Array2, BenchError> {
    let ((dtype, body_start), rows, cols) = parse_header(data)?;
    let body = &data[body_start..];
    let want = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(|| BenchError::new("not a supported .npy file: shape overflows"))?;
    if body.len() != want {
        return Err(BenchError::new(format!(
            "not a supported .npy file: body has {} bytes, shape needs {want}",
            body.len()
        )));
    }
    Ok(Array2 {
        dtype,
        rows,
        cols,
        bytes: body.to_vec(),
    })
}

fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let rest = header.split(&format!("'{key}':")).nth(1)?;
    Some(rest.split(',').next()?.trim())
}

/// The (rows, cols) of a `.npy` file, reading only its header.
pub fn read_shape(path: &Path) -> Result<(usize, usize), BenchError> {
    use std::io::Read;
    let io = |e: std::io::Error| BenchError::new(format!("{}: {e}", path.display()));
    let f = fs::File::open(path).map_err(io)?;
    let mut head = Vec::new();
    f.take(4096).read_to_end(&mut head).map_err(io)?;
    let (_, rows, cols) = parse_header(&head)?;
    Ok((rows, cols))
}

/// Reads a `.npy` file (see [`parse`]).
pub fn read(path: &Path) -> Result<Array2, BenchError> {
    let data = fs::read(path).map_err(|e| BenchError::new(format!("{}: {e}", path.display())))?;
    parse(&data).map_err(|e| BenchError::new(format!("{}: {e}", path.display())))
}

/// Serializes a 2-D array (format version 1, header padded to a multiple of 64 bytes).
pub fn to_bytes(dtype: Dtype, rows: usize, cols: usize, elements: &[[u8; 4]]) -> Vec<u8> {
    assert_eq!(elements.len(), rows * cols, "shape does not match the data");
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}",
        dtype.descr()
    );
    // magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + elements.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for e in elements {
        out.extend_from_slice(e);
    }
    out
}

/// Writes f32 rows to `path` atomically (a temporary file renamed into place), so an
/// interrupted run never leaves a half-written cache file behind.
pub fn write_f32(path: &Path, rows: usize, cols: usize, data: &[f32]) -> Result<(), BenchError> {
    let elements: Vec<[u8; 4]> = data.iter().map(|x| x.to_le_bytes()).collect();
    write_atomic(path, &to_bytes(Dtype::F32, rows, cols, &elements))
}

/// Writes u32 rows to `path` atomically.
pub fn write_u32(path: &Path, rows: usize, cols: usize, data: &[u32]) -> Result<(), BenchError> {
    let elements: Vec<[u8; 4]> = data.iter().map(|x| x.to_le_bytes()).collect();
    write_atomic(path, &to_bytes(Dtype::U32, rows, cols, &elements))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    let tmp = path.with_extension("npy.tmp");
    let io = |e: std::io::Error| BenchError::new(format!("{}: {e}", path.display()));
    let mut f = fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_f32_and_u32() {
        let data = [1.5f32, -2.0, 0.25, 7.0, 8.0, 9.5];
        let el: Vec<[u8; 4]> = data.iter().map(|x| x.to_le_bytes()).collect();
        let bytes = to_bytes(Dtype::F32, 2, 3, &el);
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(header_end % 64, 0, "header must be padded to 64 bytes");
        let a = parse(&bytes).unwrap();
        assert_eq!((a.rows, a.cols, a.dtype), (2, 3, Dtype::F32));
        assert_eq!(a.to_f32().unwrap(), data);
        assert!(a.to_u32().is_err());

        let idx = [3u32, 1, 4, 1];
        let el: Vec<[u8; 4]> = idx.iter().map(|x| x.to_le_bytes()).collect();
        let a = parse(&to_bytes(Dtype::U32, 4, 1, &el)).unwrap();
        assert_eq!(a.to_u32().unwrap(), idx);
    }

    #[test]
    fn reads_numpy_written_header() {
        // Byte-for-byte what numpy 1.x/2.x writes for np.zeros((2, 3), np.float32).
        let mut bytes = b"\x93NUMPY\x01\x00v\x00".to_vec();
        let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".to_string();
        while header.len() < 117 {
            header.push(' ');
        }
        header.push('\n');
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0u8; 24]);
        let a = parse(&bytes).unwrap();
        assert_eq!((a.rows, a.cols), (2, 3));
        assert_eq!(a.to_f32().unwrap(), vec![0.0; 6]);
    }

    #[test]
    fn rejects_bad_files() {
        let el: Vec<[u8; 4]> = (0..6u32).map(|x| x.to_le_bytes()).collect();
        let good = to_bytes(Dtype::U32, 2, 3, &el);
        assert!(parse(&good[..good.len() - 1]).is_err(), "truncated body");
        assert!(parse(&good[..20]).is_err(), "truncated header");
        assert!(parse(b"PK\x03\x04 not npy").is_err(), "no magic");
        let fortran = String::from_utf8_lossy(&good).replace("False", "True ");
        assert!(parse(fortran.as_bytes()).is_err(), "fortran order");
        let f8 = String::from_utf8_lossy(&good).replace("<u4", "<f8");
        assert!(parse(f8.as_bytes()).is_err(), "unsupported dtype");
    }
}
