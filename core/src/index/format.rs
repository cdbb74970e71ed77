//! Serialization (see FORMAT.md).

use alloc::vec::Vec;

use super::Index;
use crate::{Error, Result};

pub(crate) fn to_bytes(_index: &Index) -> Result<Vec<u8>> {
    Err(Error::Internal("not implemented yet".into()))
}

pub(crate) fn from_bytes(_bytes: &[u8]) -> Result<Index> {
    Err(Error::Internal("not implemented yet".into()))
}
