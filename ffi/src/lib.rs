//! ferrovec
