//! Matrix Market coordinate files (the NIST exchange format that SuiteSparse and scipy's
//! `mmread` / `mmwrite` use): a reader from bytes and a writer to a `String`. File IO lives
//! in the `std` crates.
//!
//! ```
//! use ferrovec_core::sparse::matrix_market::{self, Symmetry};
//! let text = "%%MatrixMarket matrix coordinate real symmetric\n\
//!             % a comment\n\
//!             2 2 2\n\
//!             1 1 4.0\n\
//!             2 1 -1.5\n";
//! let a = matrix_market::read(text.as_bytes())?;
//! assert_eq!(a.get(0, 1), Some(-1.5)); // the mirror of (2, 1)
//! assert_eq!(a.nnz(), 3);
//! let written = matrix_market::write(a.view(), Symmetry::Symmetric)?;
//! assert_eq!(matrix_market::read(written.as_bytes())?, a);
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # What the reader accepts
//!
//! * The header `%%MatrixMarket matrix coordinate <field> <symmetry>` (case-insensitive),
//!   field `real` (or `double`), `integer` or `pattern` (every value 1.0), symmetry
//!   `general`, `symmetric` or `skew-symmetric` (not with `pattern`, which the standard
//!   forbids). The `array` (dense) format, `complex` and `hermitian` are valid Matrix Market
//!   but not supported: [`Error::InvalidArgument`].
//! * Then comment lines (`%`) and blank lines, anywhere; comment lines may hold any bytes
//!   (old files carry Latin-1 names), every other line must be UTF-8. Lines end in `\n` or
//!   `\r\n`; fields are separated by spaces or tabs.
//! * The size line `rows columns entries`, then exactly `entries` lines `i j [value]` with
//!   1-based indices. Repeated positions are summed (as scipy does); explicit zeros are
//!   kept. `integer` values are read as `i64` and converted to the nearest f64.
//! * `symmetric`: each off-diagonal entry is mirrored. The standard stores the lower
//!   triangle; a file storing only the upper one is read the same way, but a file storing
//!   entries in both triangles is refused (mirroring both would double the values).
//!   `skew-symmetric`: the mirror is negated and diagonal entries are refused.
//!
//! # Nothing in the file is trusted
//!
//! Every error names the 1-based line: a missing or unknown header, a size line that is not
//! three integers, more or fewer entries than declared, an index of 0 or beyond the declared
//! size, a value that does not parse or is NaN or infinite (also `1e999`, which overflows),
//! non-UTF-8 data, a non-square symmetric matrix. Unparsable input is
//! [`Error::CorruptFile`].
//!
//! Memory is bounded by the input, not by what it declares: the declared entry count is
//! checked against the number of data lines left before anything is reserved for it, and
//! the peak heap use is at most `22 (len + 1) + 4 (rows + 1)` bytes for `len` input bytes
//! (an entry line has at least 4 bytes and yields up to two entries of 16 bytes while read
//! and 28 while assembled; `core/tests/sparse_alloc.rs` measures 21.2 bytes per input byte
//! on the densest files, 2-field symmetric lines). The one size a short file can ask for is
//! the row count (CSR keeps a 4-byte row pointer per row, a 30-byte file may declare 10^9
//! empty rows): [`ReadOptions::max_dim`] bounds rows and columns, [`DEFAULT_MAX_DIM`] by
//! default.
//!
//! # What the writer produces
//!
//! `real` files, `general` (every stored entry, row by row) or, when asked and the matrix
//! is exactly (skew-)symmetric, `symmetric` / `skew-symmetric` (the lower triangle).
//! Values are written in the shortest form that reads back to the same bits, so
//! `read(write(a)) == a` for `general` files, and for symmetric files whenever the stored
//! structure is symmetric.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use super::{coo, invalid, oom, vec_with_capacity, CsrMatrix, CsrRef, MAX_DIM};
use crate::{Error, Result};

/// The default of [`ReadOptions::max_dim`]: 2^24 (16,777,216) rows or columns, at most
/// 64 MiB of row pointers.
pub const DEFAULT_MAX_DIM: usize = 1 << 24;

/// Limits of [`read_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The most rows or columns a file may declare ([`Error::InvalidArgument`] beyond);
    /// values above [`MAX_DIM`] act as [`MAX_DIM`]. Default [`DEFAULT_MAX_DIM`].
    pub max_dim: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_dim: DEFAULT_MAX_DIM,
        }
    }
}

/// The value type a file declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `real` (or `double`): floating-point values.
    Real,
    /// `integer`: integer values, converted to f64.
    Integer,
    /// `pattern`: no values; every stored entry is 1.0.
    Pattern,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Field::Real => "real",
            Field::Integer => "integer",
            Field::Pattern => "pattern",
        }
    }
}

/// The symmetry a file declares (what the reader expanded, what the writer writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Symmetry {
    /// Every entry is stored.
    General,
    /// `a_ji = a_ij`; one triangle is stored.
    Symmetric,
    /// `a_ji = -a_ij` and a zero diagonal; the strict lower triangle is stored.
    SkewSymmetric,
}

impl Symmetry {
    fn as_str(self) -> &'static str {
        match self {
            Symmetry::General => "general",
            Symmetry::Symmetric => "symmetric",
            Symmetry::SkewSymmetric => "skew-symmetric",
        }
    }
}

/// A file read by [`read_with`]: the matrix (symmetry already expanded) and its header.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixMarket {
    /// The full matrix.
    pub matrix: CsrMatrix,
    /// The header's field.
    pub field: Field,
    /// The header's symmetry.
    pub symmetry: Symmetry,
}

/// Reads a Matrix Market coordinate file with the default [`ReadOptions`] (see the
/// [module documentation](self) for what is accepted and refused).
pub fn read(bytes: &[u8]) -> Result<CsrMatrix> {
    read_with(bytes, &ReadOptions::default()).map(|m| m.matrix)
}

/// Reads a Matrix Market coordinate file: the matrix and its header.
pub fn read_with(bytes: &[u8], options: &ReadOptions) -> Result<MatrixMarket> {
    let mut lines = Lines::new(bytes);
    let (_, first) = lines.next().unwrap_or((1, &[]));
    let (field, symmetry) = parse_header(first)?;

    let (size_no, size_line) = loop {
        match lines.next() {
            None => return Err(corrupt(lines.number, "the file ends before the size line")),
            Some((_, line)) if skip(line) => continue,
            Some(found) => break found,
        }
    };
    let text = utf8(size_no, size_line)?;
    let mut tokens = text.split_ascii_whitespace();
    let rows = parse_count(size_no, tokens.next(), "row count")?;
    let cols = parse_count(size_no, tokens.next(), "column count")?;
    let declared = parse_count(size_no, tokens.next(), "entry count")?;
    if let Some(extra) = tokens.next() {
        return Err(corrupt(
            size_no,
            format_args!(
                "unexpected `{}` after the size line's three numbers (rows, columns, entries)",
                shown(extra)
            ),
        ));
    }
    let max_dim = options.max_dim.min(MAX_DIM) as u64;
    for (what, n) in [("rows", rows), ("columns", cols)] {
        if n > max_dim {
            return Err(invalid(format!(
                "Matrix Market line {size_no}: {n} {what} exceed the limit of {max_dim} \
                 (ReadOptions::max_dim)"
            )));
        }
    }
    if symmetry != Symmetry::General && rows != cols {
        return Err(corrupt(
            size_no,
            format_args!(
                "a {} matrix must be square, the size line says {rows} x {cols}",
                symmetry.as_str()
            ),
        ));
    }
    // Each entry takes a line of at least 4 bytes ("1 1" and its end), so the data lines
    // left bound the count, and what is reserved for it, by the input's length.
    let left = lines.data_lines_left() as u64;
    if declared > left {
        return Err(corrupt(
            size_no,
            format_args!(
                "the size line declares {declared} entries but only {left} data lines follow"
            ),
        ));
    }
    // Both fit: rows, cols <= MAX_DIM, and declared <= the number of lines in `bytes`.
    let (n_rows, n_cols, declared) = (rows as usize, cols as usize, declared as usize);
    let per_line = if symmetry == Symmetry::General { 1 } else { 2 };
    let capacity = declared.saturating_mul(per_line);
    let mut entries = Triplets {
        rows: vec_with_capacity(capacity, "the Matrix Market entries")?,
        cols: vec_with_capacity(capacity, "the Matrix Market entries")?,
        values: vec_with_capacity(capacity, "the Matrix Market entries")?,
    };

    let mut count = 0usize;
    // The first line that stored an entry below / above the diagonal (symmetric files).
    let mut lower: Option<usize> = None;
    let mut upper: Option<usize> = None;
    for (no, line) in lines.by_ref() {
        if skip(line) {
            continue;
        }
        if count == declared {
            return Err(corrupt(
                no,
                format_args!("more entries than the {declared} declared on line {size_no}"),
            ));
        }
        let text = utf8(no, line)?;
        let mut tokens = text.split_ascii_whitespace();
        let i = parse_index(no, tokens.next(), "row", rows)?;
        let j = parse_index(no, tokens.next(), "column", cols)?;
        let v = match field {
            Field::Pattern => 1.0,
            Field::Real => parse_real(no, tokens.next())?,
            Field::Integer => parse_integer(no, tokens.next())?,
        };
        if let Some(extra) = tokens.next() {
            let fields = if field == Field::Pattern { 2 } else { 3 };
            return Err(corrupt(
                no,
                format_args!(
                    "unexpected `{}` after the entry (a {} entry has {fields} fields)",
                    shown(extra),
                    field.as_str()
                ),
            ));
        }
        match symmetry {
            Symmetry::General => entries.push(i, j, v),
            Symmetry::Symmetric | Symmetry::SkewSymmetric => {
                let skew = symmetry == Symmetry::SkewSymmetric;
                if skew && i == j {
                    return Err(corrupt(
                        no,
                        format_args!(
                            "a skew-symmetric file cannot store the diagonal entry ({}, {})",
                            i + 1,
                            j + 1
                        ),
                    ));
                }
                let (this, other, side, other_side) = if i > j {
                    (&mut lower, upper, "below", "above")
                } else {
                    (&mut upper, lower, "above", "below")
                };
                if i != j {
                    if let Some(earlier) = other {
                        return Err(corrupt(
                            no,
                            format_args!(
                                "entry ({}, {}) is {side} the diagonal but line {earlier} \
                                 stored one {other_side} it: a {} file stores one triangle \
                                 (the lower, by the standard)",
                                i + 1,
                                j + 1,
                                symmetry.as_str()
                            ),
                        ));
                    }
                    this.get_or_insert(no);
                }
                entries.push(i, j, v);
                if i != j {
                    entries.push(j, i, if skew { -v } else { v });
                }
            }
        }
        count += 1;
    }
    if count < declared {
        return Err(corrupt(
            lines.number,
            format_args!(
                "the file ends after {count} entries, but line {size_no} declares {declared}"
            ),
        ));
    }

    let t = entries.rows.len();
    let iter = entries
        .rows
        .iter()
        .zip(&entries.cols)
        .zip(&entries.values)
        .map(|((&r, &c), &v)| (r, c, v));
    let matrix = coo::assemble(n_rows, n_cols, t, iter).map_err(|e| match e {
        // Repeated entries that sum to infinity: the file's fault.
        Error::InvalidArgument(msg) => Error::CorruptFile(format!("Matrix Market: {msg}")),
        other => other,
    })?;
    Ok(MatrixMarket {
        matrix,
        field,
        symmetry,
    })
}

/// Writes `matrix` as a Matrix Market `real` coordinate file.
///
/// [`Symmetry::General`] writes every stored entry, row by row. [`Symmetry::Symmetric`]
/// writes the lower triangle (diagonal included) and needs an exactly symmetric matrix;
/// [`Symmetry::SkewSymmetric`] writes the strict lower triangle and needs
/// `a_ji = -a_ij` exactly and a zero diagonal. Otherwise [`Error::InvalidArgument`] names
/// the first entry that breaks the symmetry ([`Error::DimensionMismatch`] if not square).
pub fn write(matrix: CsrRef<'_>, symmetry: Symmetry) -> Result<String> {
    match symmetry {
        Symmetry::General => {}
        Symmetry::Symmetric => {
            if let Some(a) = matrix.first_asymmetry(0.0)? {
                return Err(invalid(format!("cannot write as symmetric: {a}")));
            }
        }
        Symmetry::SkewSymmetric => check_skew(matrix)?,
    }
    let keep = |i: usize, j: usize| match symmetry {
        Symmetry::General => true,
        Symmetry::Symmetric => j <= i,
        Symmetry::SkewSymmetric => j < i,
    };
    let count: usize = matrix
        .rows()
        .enumerate()
        .map(|(i, (cols, _))| cols.iter().filter(|&&j| keep(i, j as usize)).count())
        .sum();

    let mut out = String::new();
    // About 30 bytes per entry (two indices and a 17-digit value); more grows the string.
    out.try_reserve(count.saturating_mul(30).saturating_add(128))
        .map_err(|_| oom("the Matrix Market text"))?;
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "%%MatrixMarket matrix coordinate real {}",
        symmetry.as_str()
    );
    out.push_str("% written by ferrovec\n");
    let _ = writeln!(out, "{} {} {count}", matrix.n_rows(), matrix.n_cols());
    for (i, (cols, vals)) in matrix.rows().enumerate() {
        for (&j, &v) in cols.iter().zip(vals) {
            if keep(i, j as usize) {
                let _ = write!(out, "{} {} ", i + 1, j + 1);
                push_value(&mut out, v);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Exact skew-symmetry: `a_ji = -a_ij` for every stored entry and a zero diagonal.
fn check_skew(matrix: CsrRef<'_>) -> Result<()> {
    if !matrix.is_square() {
        return Err(Error::DimensionMismatch {
            expected: matrix.n_rows(),
            actual: matrix.n_cols(),
        });
    }
    for (i, (cols, vals)) in matrix.rows().enumerate() {
        for (&c, &v) in cols.iter().zip(vals) {
            let j = c as usize;
            let m = matrix.get(j, i).unwrap_or(0.0);
            if i == j && v != 0.0 {
                return Err(invalid(format!(
                    "cannot write as skew-symmetric: the diagonal entry a[{i}][{i}] = {v} is \
                     not zero"
                )));
            }
            if i != j && v != -m {
                return Err(invalid(format!(
                    "cannot write as skew-symmetric: a[{i}][{j}] = {v} but a[{j}][{i}] = {m}"
                )));
            }
        }
    }
    Ok(())
}

/// The shortest text that parses back to `v`'s bits: positional for moderate magnitudes,
/// scientific otherwise (Rust's `{}` never uses an exponent, so 1e-300 would take 300
/// digits).
fn push_value(out: &mut String, v: f64) {
    let a = v.abs();
    let _ = if a == 0.0 || (1e-5..1e16).contains(&a) {
        write!(out, "{v}")
    } else {
        write!(out, "{v:e}")
    };
}

/// The entries read so far, as parallel arrays (0-based).
struct Triplets {
    rows: Vec<u32>,
    cols: Vec<u32>,
    values: Vec<f64>,
}

impl Triplets {
    /// Within the capacity reserved from the declared count (the caller counts entries).
    fn push(&mut self, i: u32, j: u32, v: f64) {
        self.rows.push(i);
        self.cols.push(j);
        self.values.push(v);
    }
}

/// Splits input into lines (`\n`, with a trailing `\r` removed), numbering them from 1.
struct Lines<'a> {
    rest: &'a [u8],
    /// The number of the last line returned.
    number: usize,
    done: bool,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            rest: bytes,
            number: 0,
            done: false,
        }
    }

    /// The number of lines not yet returned that are neither blank nor comments: an upper
    /// bound on the entries left.
    fn data_lines_left(&self) -> usize {
        if self.done {
            return 0;
        }
        self.rest
            .split(|&b| b == b'\n')
            .filter(|l| !skip(l))
            .count()
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.done {
            return None;
        }
        self.number += 1;
        let line = match self.rest.iter().position(|&b| b == b'\n') {
            Some(p) => {
                let (line, rest) = self.rest.split_at(p);
                self.rest = rest.get(1..).unwrap_or(&[]);
                // A final `\n` ends the last line rather than starting an empty one, so
                // "the file ends" errors name the last line an editor shows.
                self.done = self.rest.is_empty();
                line
            }
            None => {
                self.done = true;
                core::mem::take(&mut self.rest)
            }
        };
        Some((self.number, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// Blank lines and comments, which the reader skips without decoding.
fn skip(line: &[u8]) -> bool {
    match line.iter().find(|b| !b.is_ascii_whitespace()) {
        None => true,
        Some(&b) => b == b'%',
    }
}

fn corrupt(line: usize, msg: impl fmt::Display) -> Error {
    Error::CorruptFile(format!("Matrix Market line {line}: {msg}"))
}

fn unsupported(msg: impl fmt::Display) -> Error {
    Error::InvalidArgument(format!("Matrix Market line 1: {msg}"))
}

fn utf8(no: usize, line: &[u8]) -> Result<&str> {
    core::str::from_utf8(line).map_err(|e| {
        corrupt(
            no,
            format_args!("not valid UTF-8 (at byte {} of the line)", e.valid_up_to()),
        )
    })
}

/// At most 40 characters of a token, for error messages (a garbage line may be huge).
fn shown(token: &str) -> &str {
    match token.char_indices().nth(40) {
        Some((end, _)) => token.get(..end).unwrap_or(token),
        None => token,
    }
}

fn parse_header(line: &[u8]) -> Result<(Field, Symmetry)> {
    let text = utf8(1, line)?;
    let mut tokens = text.split_ascii_whitespace();
    let usage = "the header must be `%%MatrixMarket matrix coordinate <field> <symmetry>`";
    let banner = tokens.next().unwrap_or("");
    if !banner.eq_ignore_ascii_case("%%MatrixMarket") {
        return Err(corrupt(
            1,
            format_args!("{usage}, found `{}`", shown(banner)),
        ));
    }
    let mut next = || {
        tokens
            .next()
            .map(|t| (t, t.to_ascii_lowercase()))
            .ok_or_else(|| corrupt(1, usage))
    };
    let (object, object_lc) = next()?;
    match object_lc.as_str() {
        "matrix" => {}
        "vector" => {
            return Err(unsupported(
                "the `vector` object is not supported, only `matrix`",
            ))
        }
        _ => {
            return Err(corrupt(
                1,
                format_args!("unknown object `{}`; {usage}", shown(object)),
            ))
        }
    }
    let (format, format_lc) = next()?;
    match format_lc.as_str() {
        "coordinate" => {}
        "array" => {
            return Err(unsupported(
                "the `array` (dense) format is not supported, only `coordinate`",
            ))
        }
        _ => {
            return Err(corrupt(
                1,
                format_args!("unknown format `{}`; {usage}", shown(format)),
            ))
        }
    }
    let (field, field_lc) = next()?;
    let field = match field_lc.as_str() {
        "real" | "double" => Field::Real,
        "integer" => Field::Integer,
        "pattern" => Field::Pattern,
        "complex" => {
            return Err(unsupported(
                "`complex` matrices are not supported (real, integer or pattern)",
            ))
        }
        _ => {
            return Err(corrupt(
                1,
                format_args!(
                    "unknown field `{}` (real, integer, pattern or complex)",
                    shown(field)
                ),
            ))
        }
    };
    let (symmetry, symmetry_lc) = next()?;
    let symmetry = match symmetry_lc.as_str() {
        "general" => Symmetry::General,
        "symmetric" => Symmetry::Symmetric,
        "skew-symmetric" => Symmetry::SkewSymmetric,
        "hermitian" => {
            return Err(unsupported(
                "`hermitian` matrices (complex) are not supported",
            ))
        }
        _ => {
            return Err(corrupt(
                1,
                format_args!(
                    "unknown symmetry `{}` (general, symmetric, skew-symmetric or hermitian)",
                    shown(symmetry)
                ),
            ))
        }
    };
    if let Some(extra) = tokens.next() {
        return Err(corrupt(
            1,
            format_args!("unexpected `{}` after the symmetry; {usage}", shown(extra)),
        ));
    }
    if field == Field::Pattern && symmetry == Symmetry::SkewSymmetric {
        return Err(corrupt(1, "a `pattern` matrix cannot be `skew-symmetric`"));
    }
    Ok((field, symmetry))
}

fn parse_count(no: usize, token: Option<&str>, what: &str) -> Result<u64> {
    let token = token.ok_or_else(|| {
        corrupt(
            no,
            format_args!(
                "the size line needs three numbers (rows, columns, entries); the {what} is missing"
            ),
        )
    })?;
    token.parse::<u64>().map_err(|_| {
        corrupt(
            no,
            format_args!(
                "the {what} `{}` is not a non-negative integer",
                shown(token)
            ),
        )
    })
}

/// A 1-based index in `1..=dim`, returned 0-based.
fn parse_index(no: usize, token: Option<&str>, what: &str, dim: u64) -> Result<u32> {
    let token = token.ok_or_else(|| corrupt(no, format_args!("the {what} index is missing")))?;
    let i = token.parse::<u64>().map_err(|_| {
        corrupt(
            no,
            format_args!(
                "the {what} index `{}` is not a positive integer",
                shown(token)
            ),
        )
    })?;
    if i == 0 {
        return Err(corrupt(
            no,
            format_args!("{what} index 0: Matrix Market indices are 1-based"),
        ));
    }
    if i > dim {
        return Err(corrupt(
            no,
            format_args!("{what} index {i} is out of range 1..={dim}"),
        ));
    }
    // i <= dim <= MAX_DIM.
    Ok((i - 1) as u32)
}

fn parse_real(no: usize, token: Option<&str>) -> Result<f64> {
    let token = token.ok_or_else(|| corrupt(no, "the value is missing"))?;
    let v = token.parse::<f64>().map_err(|_| {
        corrupt(
            no,
            format_args!("the value `{}` is not a number", shown(token)),
        )
    })?;
    if !v.is_finite() {
        return Err(corrupt(
            no,
            format_args!(
                "the value `{}` is not finite (NaN, infinity, or beyond the f64 range)",
                shown(token)
            ),
        ));
    }
    Ok(v)
}

fn parse_integer(no: usize, token: Option<&str>) -> Result<f64> {
    let token = token.ok_or_else(|| corrupt(no, "the value is missing"))?;
    let v = token.parse::<i64>().map_err(|_| {
        corrupt(
            no,
            format_args!(
                "the value `{}` is not a 64-bit integer (the header says `integer`)",
                shown(token)
            ),
        )
    })?;
    Ok(v as f64)
}
