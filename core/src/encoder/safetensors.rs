//! The safetensors container: an 8-byte little-endian header length, a JSON header naming
//! each tensor's dtype, shape and byte range, then the data area.
//!
//! Everything the header says is checked against the buffer before anything is used: the
//! header fits the buffer, each tensor's byte length is `product(shape) * dtype size`
//! (overflow-checked), its range lies inside the data area, and no two tensors overlap.
//! Nothing is allocated in proportion to a declared size: a 40-byte file declaring a
//! 2^60-element tensor costs a parse of 32 bytes of JSON and an error.
//!
//! The parsed [`SafeTensors`] holds names and byte ranges only; the bytes stay where the
//! caller keeps them.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use super::json::{self, Value};
use super::sort::heapsort_by;
use super::Shape;
use crate::{Error, Result};

/// Largest header accepted (the limit of the reference `safetensors` implementation).
pub const MAX_HEADER: usize = 100 << 20;

/// Most dimensions a tensor may have.
pub const MAX_RANK: usize = 8;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (the top half of a binary32).
    BF16,
    /// IEEE binary64.
    F64,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer (e.g. BERT's `position_ids` buffer).
    I64,
    /// One byte per boolean.
    Bool,
}

impl Dtype {
    /// Parses the header's dtype string; an unknown one (e.g. an 8-bit float format) is
    /// refused, since its element size would be a guess.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_name(name: &str) -> Option<Dtype> {
        Some(match name {
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F64" => Dtype::F64,
            "I8" => Dtype::I8,
            "U8" => Dtype::U8,
            "I16" => Dtype::I16,
            "I32" => Dtype::I32,
            "I64" => Dtype::I64,
            "BOOL" => Dtype::Bool,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
            Dtype::F16 | Dtype::BF16 | Dtype::I16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }

    /// The header's name of the dtype.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::F64 => "F64",
            Dtype::I8 => "I8",
            Dtype::U8 => "U8",
            Dtype::I16 => "I16",
            Dtype::I32 => "I32",
            Dtype::I64 => "I64",
            Dtype::Bool => "BOOL",
        }
    }
}

/// One tensor of a safetensors file: where its bytes are, checked against the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name in the header.
    pub name: String,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Its bytes, as a range of the whole buffer (header included), so
    /// `&buffer[range]` is the tensor. Always inside the buffer and of length
    /// `product(shape) * dtype.size()`.
    pub range: Range<usize>,
}

impl TensorInfo {
    /// Number of elements (`product(shape)`; cannot overflow, it was checked at parse).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A parsed safetensors header: every tensor's validated location in the buffer it was
/// parsed from. Tensors are sorted by name.
#[derive(Debug, Clone)]
pub struct SafeTensors {
    tensors: Vec<TensorInfo>,
    len: usize,
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn corrupt(msg: impl Into<String>) -> Error {
    Error::CorruptFile(format!("safetensors: {}", msg.into()))
}

impl SafeTensors {
    /// Parses and validates the header of `buffer` (the whole file).
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn parse(buffer: &[u8]) -> Result<SafeTensors> {
        let len_bytes: [u8; 8] =
            buffer
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    corrupt(format!(
                        "{} bytes is too short for the 8-byte header length",
                        buffer.len()
                    ))
                })?;
        let declared = u64::from_le_bytes(len_bytes);
        let available = buffer.len() - 8;
        if declared > available as u64 {
            return Err(corrupt(format!(
                "header length {declared} is past the end of the {}-byte buffer",
                buffer.len()
            )));
        }
        let header_len = declared as usize; // <= available, so it fits
        if header_len > MAX_HEADER {
            return Err(corrupt(format!(
                "header length {header_len} is more than the {MAX_HEADER} accepted"
            )));
        }
        let data_start = 8 + header_len;
        let data_len = buffer.len() - data_start;
        let header = json::parse(&buffer[8..data_start], "safetensors header")?;
        let members = header
            .as_object()
            .ok_or_else(|| corrupt(format!("the header is {}, not an object", header.kind())))?;

        let mut tensors = Vec::new();
        tensors
            .try_reserve_exact(members.len())
            .map_err(|_| Error::OutOfMemory("safetensors tensor table".to_string()))?;
        for (name, entry) in members {
            if name == "__metadata__" {
                // Free-form string map; nothing in it is needed, but it must be an object.
                if entry.as_object().is_none() {
                    return Err(corrupt("\"__metadata__\" must be an object"));
                }
                continue;
            }
            tensors.push(parse_entry(name, entry, data_start, data_len)?);
        }

        // Duplicates and overlaps: sort by start (then end), neighbours must not overlap.
        heapsort_by(&mut tensors, |a, b| {
            (a.range.start, a.range.end) < (b.range.start, b.range.end)
        });
        for pair in tensors.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            // Empty tensors occupy no bytes and may share an offset with anything.
            if !a.range.is_empty() && !b.range.is_empty() && b.range.start < a.range.end {
                return Err(corrupt(format!(
                    "tensors \"{}\" (bytes {}..{}) and \"{}\" (bytes {}..{}) overlap",
                    a.name,
                    a.range.start - data_start,
                    a.range.end - data_start,
                    b.name,
                    b.range.start - data_start,
                    b.range.end - data_start
                )));
            }
        }
        heapsort_by(&mut tensors, |a, b| a.name < b.name);
        for pair in tensors.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(corrupt(format!(
                    "tensor \"{}\" is named twice",
                    pair[0].name
                )));
            }
        }
        Ok(SafeTensors {
            tensors,
            len: buffer.len(),
        })
    }

    /// Every tensor, sorted by name.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.tensors[i])
    }

    /// Length of the buffer the header was parsed from (every range lies inside it).
    pub fn buffer_len(&self) -> usize {
        self.len
    }
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn parse_entry(
    name: &str,
    entry: &Value<'_>,
    data_start: usize,
    data_len: usize,
) -> Result<TensorInfo> {
    if entry.as_object().is_none() {
        return Err(corrupt(format!(
            "tensor \"{name}\" is {}, not an object",
            entry.kind()
        )));
    }
    let what = format!("safetensors: tensor \"{name}\"");
    let dtype_text = json::field(entry, "dtype", &what)?
        .as_str()
        .ok_or_else(|| corrupt(format!("tensor \"{name}\": \"dtype\" must be a string")))?;
    let dtype = Dtype::from_name(dtype_text).ok_or_else(|| {
        corrupt(format!(
            "tensor \"{name}\": unsupported dtype \"{dtype_text}\" (known: F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL)"
        ))
    })?;
    let dims = json::field(entry, "shape", &what)?
        .as_array()
        .ok_or_else(|| corrupt(format!("tensor \"{name}\": \"shape\" must be an array")))?;
    if dims.len() > MAX_RANK {
        return Err(corrupt(format!(
            "tensor \"{name}\": {} dimensions is more than the {MAX_RANK} accepted",
            dims.len()
        )));
    }
    let mut shape = Vec::with_capacity(dims.len());
    let mut numel: usize = 1;
    for d in dims {
        let d = d
            .as_u64()
            .and_then(|d| usize::try_from(d).ok())
            .ok_or_else(|| {
                corrupt(format!(
                    "tensor \"{name}\": shape entries must be non-negative integers"
                ))
            })?;
        shape.push(d);
        numel = numel.checked_mul(d).ok_or_else(|| {
            let more = if shape.len() < dims.len() {
                ", ..."
            } else {
                ""
            };
            corrupt(format!(
                "tensor \"{name}\": shape {}{more} overflows the element count",
                Shape(&shape)
            ))
        })?;
    }
    let bytes = numel.checked_mul(dtype.size()).ok_or_else(|| {
        corrupt(format!(
            "tensor \"{name}\": {numel} elements of {} overflow the byte count",
            dtype.name()
        ))
    })?;
    let offsets = json::field(entry, "data_offsets", &what)?
        .as_array()
        .filter(|o| o.len() == 2)
        .ok_or_else(|| {
            corrupt(format!(
                "tensor \"{name}\": \"data_offsets\" must be [begin, end]"
            ))
        })?;
    let (begin, end) = match (offsets[0].as_u64(), offsets[1].as_u64()) {
        (Some(b), Some(e)) => (b, e),
        _ => {
            return Err(corrupt(format!(
                "tensor \"{name}\": \"data_offsets\" must be non-negative integers"
            )))
        }
    };
    if begin > end {
        return Err(corrupt(format!(
            "tensor \"{name}\": data_offsets [{begin}, {end}] are out of order"
        )));
    }
    if end > data_len as u64 {
        return Err(corrupt(format!(
            "tensor \"{name}\": data_offsets [{begin}, {end}] run past the end of the {data_len}-byte data area"
        )));
    }
    let (begin, end) = (begin as usize, end as usize); // <= data_len
    if end - begin != bytes {
        return Err(corrupt(format!(
            "tensor \"{name}\": data_offsets [{begin}, {end}] hold {} bytes but shape {} of {} needs {bytes}",
            end - begin,
            Shape(&shape),
            dtype.name()
        )));
    }
    Ok(TensorInfo {
        name: name.to_string(),
        dtype,
        shape,
        range: data_start + begin..data_start + end,
    })
}
