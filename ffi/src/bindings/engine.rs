//! [`Engine`] for the foreign languages: every kernel on a backend chosen at run time
//! (Native, or Interpreted: ferrovec's wasm module inside wasmi with fuel and a memory cap).

use std::sync::{Arc, RwLock};

use ferrovec_core::kernels::{Isa, Metric};
use ferrovec_core::{Error, Result};

use super::bytes::{f32s_from_le_bytes, f32s_to_le_bytes, i8s_from_bytes};
use super::kernels::{scan_row_count, Hit, Normalized};
use crate::backend::{BackendKind, BundledModule, InterpretedOptions};

/// Where an [`Engine`] (and every index made from it) runs.
#[uniffi::remote(Enum)]
pub enum BackendKind {
    /// The compiled kernels of this library.
    Native,
    /// ferrovec's wasm module inside the embedded wasmi interpreter.
    Interpreted,
}

/// How to build an Interpreted engine. Every field has a default: the bundled simd128
/// module, no fuel limit, no memory cap, any SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InterpretedConfig {
    /// A `.wasm` module (ferrovec's ABI) to run instead of a bundled one.
    #[uniffi(default = None)]
    pub module: Option<Vec<u8>>,
    /// Which bundled module runs when `module` is absent: `ferrovec-simd.wasm` (true, the
    /// fast one) or the scalar `ferrovec.wasm` (false).
    #[uniffi(default = true)]
    pub simd: bool,
    /// The fuel (roughly, wasm instructions) each call may use; absent for no limit. A call
    /// that runs out fails with `OutOfFuel` and the engine keeps working.
    #[uniffi(default = None)]
    pub fuel: Option<u64>,
    /// The most bytes the module's linear memory may grow to; absent for no cap (4 GiB).
    #[uniffi(default = None)]
    pub memory_limit: Option<u64>,
    /// Refuse a module whose SHA-256 is not this (64 hex digits).
    #[uniffi(default = None)]
    pub sha256: Option<String>,
}

impl InterpretedConfig {
    fn to_options(&self) -> Result<InterpretedOptions> {
        let mut options = match &self.module {
            Some(bytes) => InterpretedOptions::new().module(bytes.clone()),
            None => InterpretedOptions::new().bundled(if self.simd {
                BundledModule::Simd
            } else {
                BundledModule::Scalar
            }),
        };
        options = options.fuel(self.fuel);
        if let Some(cap) = self.memory_limit {
            // A cap beyond the address space is no cap at all.
            options = options.memory_limit(Some(usize::try_from(cap).unwrap_or(usize::MAX)));
        }
        if let Some(hex) = &self.sha256 {
            options = options.expect_sha256(parse_sha256(hex)?);
        }
        Ok(options)
    }
}

fn parse_sha256(hex: &str) -> Result<[u8; 32]> {
    let bad = || {
        Error::InvalidArgument(format!(
            "sha256 must be 64 hex digits, got {:?}",
            hex.chars().take(80).collect::<String>()
        ))
    };
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Every kernel, on a backend chosen at run time. Thread-safe; `release()` frees it early
/// (later calls fail with `InvalidHandle`), otherwise it is freed when the last reference
/// goes.
///
/// Same arguments, results and errors as the free kernel functions on either backend; the
/// Interpreted one adds `OutOfFuel`, `OutOfMemory` and `Trap`, after which the engine keeps
/// working. Interpreted calls on one engine run one at a time.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    inner: RwLock<Option<Arc<crate::Engine>>>,
    kind: BackendKind,
}

impl Engine {
    fn wrap(engine: crate::Engine) -> Arc<Engine> {
        let kind = engine.kind();
        Arc::new(Engine {
            inner: RwLock::new(Some(Arc::new(engine))),
            kind,
        })
    }

    /// The engine, or `InvalidHandle` once released. A clone, so a call in flight keeps the
    /// engine alive while another thread releases it.
    pub(crate) fn engine(&self) -> Result<Arc<crate::Engine>> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::InvalidHandle)
    }
}

#[uniffi::export]
impl Engine {
    /// The native backend, on the process-wide active instruction set.
    #[uniffi::constructor]
    pub fn native() -> Arc<Engine> {
        Engine::wrap(crate::Engine::native())
    }

    /// The native backend pinned to `isa` (`UnsupportedIsa` if this machine cannot run it).
    #[uniffi::constructor]
    pub fn native_with_isa(isa: Isa) -> Result<Arc<Engine>> {
        Ok(Engine::wrap(crate::Engine::native_with_isa(isa)?))
    }

    /// The Interpreted backend. `InvalidModule` for a module that is not ferrovec's ABI or
    /// not the expected SHA-256, `OutOfMemory` for a memory cap below the module's initial
    /// memory, `InvalidArgument` for a zero fuel budget.
    #[uniffi::constructor]
    pub fn interpreted(config: InterpretedConfig) -> Result<Arc<Engine>> {
        Ok(Engine::wrap(crate::Engine::interpreted(
            &config.to_options()?,
        )?))
    }

    /// Which backend this engine runs on.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// A human-readable description of the backend, e.g. `"native (avx512+vnni+vpopcntdq)"`.
    pub fn describe(&self) -> Result<String> {
        Ok(self.engine()?.backend().describe())
    }

    /// Frees the engine now (a call in flight on another thread finishes first). Later calls
    /// fail with `InvalidHandle`; indexes made from it keep working. Idempotent.
    pub fn release(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Inner product of two f32 vectors.
    pub fn dot_f32(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.engine()?
            .dot_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
    }

    /// Cosine distance `1 - cos(a, b)` of two f32 vectors.
    pub fn cosine_distance_f32(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.engine()?
            .cosine_distance_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
    }

    /// Squared Euclidean distance of two f32 vectors.
    pub fn l2sq_f32(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.engine()?
            .l2sq_f32(&f32s_from_le_bytes(a, "a")?, &f32s_from_le_bytes(b, "b")?)
    }

    /// `x` scaled to unit length, and its length before scaling.
    pub fn l2_normalize_f32(&self, x: &[u8]) -> Result<Normalized> {
        let engine = self.engine()?;
        let mut values = f32s_from_le_bytes(x, "x")?.into_owned();
        let norm = engine.l2_normalize_f32(&mut values)?;
        Ok(Normalized {
            vector: f32s_to_le_bytes(&values),
            norm,
        })
    }

    /// Distances from `query` to each row of `rows` (`n_rows * dims` floats), as
    /// little-endian f32 bytes.
    pub fn scan_f32(&self, metric: Metric, query: &[u8], rows: &[u8]) -> Result<Vec<u8>> {
        let engine = self.engine()?;
        let query = f32s_from_le_bytes(query, "query")?;
        let rows = f32s_from_le_bytes(rows, "rows")?;
        let Some(n_rows) = scan_row_count(query.len(), rows.len())? else {
            return Ok(Vec::new());
        };
        let mut out = vec![0.0f32; n_rows];
        engine.scan_f32(metric, &query, &rows, &mut out)?;
        Ok(f32s_to_le_bytes(&out))
    }

    /// The `k` smallest of `scores` (little-endian f32), ascending, ties by lower index.
    pub fn top_k(&self, scores: &[u8], k: u32) -> Result<Vec<Hit>> {
        let engine = self.engine()?;
        let scores = f32s_from_le_bytes(scores, "scores")?;
        Ok(engine
            .top_k(&scores, k as usize)
            .into_iter()
            .map(|h| Hit {
                index: h.index as u64,
                score: h.score,
            })
            .collect())
    }

    /// Inner product of two i8 vectors.
    pub fn dot_i8(&self, a: &[u8], b: &[u8]) -> Result<i32> {
        self.engine()?.dot_i8(i8s_from_bytes(a), i8s_from_bytes(b))
    }

    /// Squared Euclidean distance of two i8 vectors.
    pub fn l2sq_i8(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        self.engine()?.l2sq_i8(i8s_from_bytes(a), i8s_from_bytes(b))
    }

    /// Number of differing bits of two packed binary vectors.
    pub fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        self.engine()?.hamming_b1(a, b)
    }

    /// Jaccard distance of two packed binary vectors.
    pub fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.engine()?.jaccard_b1(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(values: &[f32]) -> Vec<u8> {
        f32s_to_le_bytes(values)
    }

    #[test]
    fn native_engine_computes_and_releases() {
        let engine = Engine::native();
        assert_eq!(engine.kind(), BackendKind::Native);
        assert_eq!(
            engine.dot_f32(&le(&[1.0, 2.0]), &le(&[3.0, 4.0])).unwrap(),
            11.0
        );
        assert!(!engine.is_released());
        engine.release();
        engine.release();
        assert!(engine.is_released());
        assert_eq!(
            engine.dot_f32(&le(&[1.0]), &le(&[1.0])),
            Err(Error::InvalidHandle)
        );
    }

    #[test]
    fn interpreted_config_is_checked() {
        let bad_hash = InterpretedConfig {
            module: Some(b"\0asm\x01\0\0\0".to_vec()),
            simd: true,
            fuel: None,
            memory_limit: None,
            sha256: Some("xyz".to_string()),
        };
        assert!(matches!(
            Engine::interpreted(bad_hash),
            Err(Error::InvalidArgument(m)) if m.contains("sha256")
        ));
        let not_ferrovec = InterpretedConfig {
            module: Some(b"\0asm\x01\0\0\0".to_vec()),
            simd: true,
            fuel: None,
            memory_limit: None,
            sha256: None,
        };
        assert!(matches!(
            Engine::interpreted(not_ferrovec),
            Err(Error::InvalidModule(_))
        ));
        assert_eq!(parse_sha256(&"0f".repeat(32)).unwrap(), [0x0f; 32]);
    }
}
