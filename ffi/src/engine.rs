//! [`Engine`]: every kernel, on a backend chosen at run time.

use ferrovec_core::kernels::{self, Hit, Isa, Metric};
use ferrovec_core::Result;

use crate::backend::{Backend, BackendKind, Interpreted, InterpretedOptions, Native};

/// Every kernel of [`ferrovec::kernels`](crate::kernels), on a [`Backend`] chosen at run
/// time: [`Native`] (the compiled kernels) or [`Interpreted`] (the wasm module inside
/// wasmi, with fuel and a memory cap).
///
/// Same arguments, results, conventions and errors as the free functions in
/// [`kernels`](crate::kernels), whichever backend runs them; the interpreted backend adds
/// [`Error::OutOfFuel`](crate::Error::OutOfFuel), [`Error::OutOfMemory`](crate::Error::OutOfMemory)
/// and [`Error::Trap`](crate::Error::Trap), after which the engine keeps working. Results
/// agree within the tolerance documented in `tests/golden/README.md` (integer results
/// exactly).
///
/// An `Engine` is `Send + Sync` and every method takes `&self`. Native calls run
/// concurrently; interpreted calls on one engine are serialized (one wasm instance runs one
/// call at a time), so use one engine per thread for parallel interpreted work.
///
/// ```
/// use ferrovec::{kernels::Metric, Engine};
///
/// let engine = Engine::native();
/// let mut scores = [0.0f32; 2];
/// engine.scan_f32(Metric::L2sq, &[1.0, 0.0], &[1.0, 0.0, 0.0, 1.0], &mut scores)?;
/// assert_eq!(scores, [0.0, 2.0]);
/// # Ok::<(), ferrovec::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    backend: Box<dyn Backend>,
}

impl Engine {
    /// The native backend on the process-wide active kernel table.
    pub fn native() -> Engine {
        Engine::with_backend(Native::new())
    }

    /// The native backend pinned to `isa`; [`Error::UnsupportedIsa`](crate::Error) if this
    /// machine cannot run it.
    pub fn native_with_isa(isa: Isa) -> Result<Engine> {
        Ok(Engine::with_backend(Native::with_isa(isa)?))
    }

    /// The interpreted backend built from `options` (see [`InterpretedOptions::build`] for
    /// what can fail).
    pub fn interpreted(options: &InterpretedOptions) -> Result<Engine> {
        Ok(Engine::with_backend(options.build()?))
    }

    /// An engine on any backend.
    pub fn with_backend(backend: impl Backend + 'static) -> Engine {
        Engine {
            backend: Box::new(backend),
        }
    }

    /// The backend this engine runs on.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// Which kind of backend this engine runs on.
    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// Inner product. See [`kernels::dot_f32`].
    pub fn dot_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.backend.dot_f32(a, b)
    }

    /// Cosine distance `1 - cos(a, b)`. See [`kernels::cosine_distance_f32`].
    pub fn cosine_distance_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.backend.cosine_distance_f32(a, b)
    }

    /// Squared Euclidean distance. See [`kernels::l2sq_f32`].
    pub fn l2sq_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        self.backend.l2sq_f32(a, b)
    }

    /// Scales `x` to unit length in place and returns its length before scaling. See
    /// [`kernels::l2_normalize_f32`]; unlike it, this can fail (only on the interpreted
    /// backend: fuel, memory), leaving `x` unchanged.
    pub fn l2_normalize_f32(&self, x: &mut [f32]) -> Result<f32> {
        self.backend.l2_normalize_f32(x)
    }

    /// One query against many rows. See [`kernels::scan_f32`]. On error `out` is unchanged.
    pub fn scan_f32(
        &self,
        metric: Metric,
        query: &[f32],
        rows: &[f32],
        out: &mut [f32],
    ) -> Result<()> {
        self.backend.scan_f32(metric, query, rows, out)
    }

    /// i8 inner product. See [`kernels::dot_i8`].
    pub fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32> {
        self.backend.dot_i8(a, b)
    }

    /// i8 squared Euclidean distance. See [`kernels::l2sq_i8`].
    pub fn l2sq_i8(&self, a: &[i8], b: &[i8]) -> Result<u32> {
        self.backend.l2sq_i8(a, b)
    }

    /// Hamming distance of packed bits. See [`kernels::hamming_b1`].
    pub fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        self.backend.hamming_b1(a, b)
    }

    /// Jaccard distance of packed bits. See [`kernels::jaccard_b1`].
    pub fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        self.backend.jaccard_b1(a, b)
    }

    /// The `k` smallest scores, ascending. See [`kernels::top_k`]: a selection on the host,
    /// the same for every backend (no kernel runs inside the module for it).
    pub fn top_k(&self, scores: &[f32], k: usize) -> Vec<Hit> {
        kernels::top_k(scores, k)
    }
}

impl From<Native> for Engine {
    fn from(backend: Native) -> Engine {
        Engine::with_backend(backend)
    }
}

impl From<Interpreted> for Engine {
    fn from(backend: Interpreted) -> Engine {
        Engine::with_backend(backend)
    }
}
