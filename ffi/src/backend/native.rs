//! The Native backend: the core's kernels, called directly.

use ferrovec_core::kernels::{Isa, Kernels, Metric};
use ferrovec_core::Result;

use super::{Backend, BackendKind};

/// Runs every kernel natively, on one kernel table.
///
/// [`Native::new`] follows the process-wide active table (the best this CPU runs, or what
/// `FERROVEC_ISA` / [`kernels::force`](crate::kernels::force) chose); [`Native::with_isa`]
/// and [`Native::with_kernels`] pin one table, e.g. to compare instruction sets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native {
    kernels: Option<&'static Kernels>,
}

impl Native {
    /// A backend on the process-wide active kernel table (looked up at every call, so a
    /// later [`kernels::force`](crate::kernels::force) applies).
    pub fn new() -> Native {
        Native { kernels: None }
    }

    /// A backend pinned to the best table of `isa`; [`Error::UnsupportedIsa`](crate::Error)
    /// if this machine cannot run it.
    pub fn with_isa(isa: Isa) -> Result<Native> {
        Ok(Native::with_kernels(Kernels::for_isa(isa)?))
    }

    /// A backend pinned to `kernels` (one of [`Kernels::variants`]).
    pub fn with_kernels(kernels: &'static Kernels) -> Native {
        Native {
            kernels: Some(kernels),
        }
    }

    /// The table the next call will run on.
    pub fn kernels(&self) -> &'static Kernels {
        self.kernels.unwrap_or_else(Kernels::active)
    }
}

impl Backend for Native {
    fn kind(&self) -> BackendKind {
        BackendKind::Native
    }

    fn describe(&self) -> String {
        let pinned = if self.kernels.is_some() {
            ""
        } else {
            ", active"
        };
        format!("native ({}{pinned})", self.kernels().variant())
    }

    fn load_encoder(
        &self,
        files: ferrovec_core::encoder::ModelFiles<'_>,
    ) -> Result<Box<dyn crate::encoder::EncoderBackend>> {
        crate::encoder::NativeEncoder::load(files, self.kernels())
    }

    fn dot_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.kernels().dot_f32(a, b)
    }

    fn cosine_distance_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.kernels().cosine_distance_f32(a, b)
    }

    fn l2sq_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.kernels().l2sq_f32(a, b)
    }

    fn l2_normalize_f32(&self, x: &mut [f32]) -> Result<f32> {
        Ok(self.kernels().l2_normalize_f32(x))
    }

    fn scan_f32(&self, metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<()> {
        self.kernels().scan_f32(metric, query, rows, out)
    }

    fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32> {
        self.kernels().dot_i8(a, b)
    }

    fn l2sq_i8(&self, a: &[i8], b: &[i8]) -> Result<u32> {
        self.kernels().l2sq_i8(a, b)
    }

    fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        self.kernels().hamming_b1(a, b)
    }

    fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.kernels().jaccard_b1(a, b)
    }
}
