//! The Interpreted backend: ferrovec's wasm modules (ABI v3, `wasm/README.md`) inside the
//! embedded wasmi interpreter: the kernel module (kernels and indexes) and, compiled on the
//! first sparse matrix or graph, the solver module of the same build
//! (`interpreted_solver.rs`), and on the first text encoder, the encoder module of the same
//! build (`interpreted_encoder.rs`; [`InterpretedOptions::encoder_module`]).
//!
//! This is for hosts that may not load new native code or JIT (iOS rules for downloaded
//! code, consoles, plugin sandboxes) or that run kernels they do not trust: the module is
//! confined to its linear memory, each call can be given a fuel budget (an instruction
//! count) and the memory a cap, and running out of either is an error after which the
//! backend keeps working.
//!
//! # How a call runs
//!
//! The arguments are checked on the host exactly as the core checks them (so a bad call
//! fails the same way as on [`Native`](super::Native) and the module never sees it), copied
//! into one scratch block of the module's memory (allocated with `fv_alloc` and kept for
//! the next call, grown when a call needs more), the export runs, and outputs are copied
//! back. A NaN (or an error sentinel) result is checked against `fv_last_error`, so a real
//! module error is never mistaken for a number.
//!
//! # Threads
//!
//! [`Interpreted`] is `Send + Sync`. One wasm instance runs one call at a time (the module
//! is single-threaded), so calls from several threads are serialized by a mutex around the
//! wasmi `Store`; for parallel throughput make one `Interpreted` per thread.
//!
//! # Failures
//!
//! * Out of fuel: [`Error::OutOfFuel`]. The call is abandoned mid-way, so the instance is
//!   discarded; the next call instantiates the (already compiled) module afresh.
//! * A trap (a module bug, or a module that is not ferrovec's): [`Error::Trap`], then as
//!   for fuel.
//! * The memory cap: [`Error::OutOfMemory`] when the scratch block cannot be allocated; the
//!   instance is intact and keeps its other state.
//!
//! The budget covers everything one call runs inside the module: growing the scratch block
//! (`fv_free` + `fv_alloc`), the kernel, and reading an error message. Instantiation (also
//! after a discarded instance) runs with its own budget of [`INSTANTIATION_FUEL`].

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use ferrovec_core::kernels::Metric;
use ferrovec_core::{Error, Result};
use sha2::{Digest, Sha256};
use wasmi::{
    CompilationMode, Config, Engine as WasmEngine, ExternType, Instance, Memory, Module, Store,
    StoreLimits, StoreLimitsBuilder, TrapCode, TypedFunc, WasmParams, WasmResults,
};

use super::module_call::{AbiMemory, CallResult, Fail, Scratch};
use super::{check_b1, check_same_len, check_scan, Backend, BackendKind};
use crate::index::{IndexBackend, IndexOptions};

/// The version of the module ABI (`fv_abi_version()`) this host implements; modules of any
/// other version are refused.
pub const SUPPORTED_ABI_VERSION: u32 = 3;

/// Fuel for instantiating the module and checking its ABI, when a per-call budget is set.
/// ferrovec's modules have no start function (one is refused), so this is only the data
/// segments and two constant functions; it cannot be exhausted by a conforming module.
pub const INSTANTIATION_FUEL: u64 = 10_000_000;

/// `fv_capabilities()` bit 0: the module was built with simd128.
const CAP_SIMD128: u32 = 1;
/// `fv_capabilities()` bit 2: the module exports the sparse solver (`fv_matrix_*`,
/// `fv_graph_*`).
const CAP_SOLVER: u32 = 1 << 2;
/// `fv_capabilities()` bit 3: the module exports the text encoder (`fv_encoder_*`).
const CAP_ENCODER: u32 = 1 << 3;
/// `fv_capabilities()` bit 4: the index records a model id (`fv_index_set_model_id`,
/// `fv_index_model_id`).
pub(super) const CAP_INDEX_MODEL_ID: u32 = 1 << 4;
/// `fv_capabilities()` bit 5: the text encoder can hold int8 weights
/// (`fv_encoder_load_with`, precision 1).
pub(super) const CAP_ENCODER_INT8: u32 = 1 << 5;
/// Rows per `fv_scan_f32` call are chosen to fill about this many bytes (see `scan_f32`):
/// well inside a core's L2 cache next to the module's own working set.
const SCAN_CHUNK_BYTES: usize = 128 * 1024;
/// Wasm page size (custom page sizes are not enabled).
const PAGE: u64 = 64 * 1024;

/// One of the modules built by `make wasm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundledModule {
    /// `ferrovec.wasm`: portable scalar kernels.
    Scalar,
    /// `ferrovec-simd.wasm`: simd128 kernels, the fast one and the default.
    Simd,
}

impl BundledModule {
    /// The file name `make wasm` gives the module.
    pub const fn file_name(self) -> &'static str {
        match self {
            BundledModule::Scalar => "ferrovec.wasm",
            BundledModule::Simd => "ferrovec-simd.wasm",
        }
    }

    /// The file name of the same build's solver module (wasm/README.md, "Modules").
    pub const fn solver_file_name(self) -> &'static str {
        match self {
            BundledModule::Scalar => "ferrovec-solver.wasm",
            BundledModule::Simd => "ferrovec-solver-simd.wasm",
        }
    }

    /// The file name of the same build's text encoder module (wasm/README.md, "Modules").
    pub const fn encoder_file_name(self) -> &'static str {
        match self {
            BundledModule::Scalar => "ferrovec-encoder.wasm",
            BundledModule::Simd => "ferrovec-encoder-simd.wasm",
        }
    }
}

/// The bytes of the text encoder module of the same build as `which`
/// (`ferrovec-encoder.wasm` or `ferrovec-encoder-simd.wasm`) embedded in this library, or
/// `None` without the `bundled-wasm` feature.
pub fn bundled_encoder_module(which: BundledModule) -> Option<&'static [u8]> {
    #[cfg(feature = "bundled-wasm")]
    {
        Some(match which {
            BundledModule::Scalar => include_bytes!(env!("FERROVEC_WASM_ENCODER_SCALAR")),
            BundledModule::Simd => include_bytes!(env!("FERROVEC_WASM_ENCODER_SIMD")),
        })
    }
    #[cfg(not(feature = "bundled-wasm"))]
    {
        let _ = which;
        None
    }
}

/// The bytes of the solver module of the same build as `which` (`ferrovec-solver.wasm` or
/// `ferrovec-solver-simd.wasm`) embedded in this library, or `None` without the
/// `bundled-wasm` feature.
pub fn bundled_solver_module(which: BundledModule) -> Option<&'static [u8]> {
    #[cfg(feature = "bundled-wasm")]
    {
        Some(match which {
            BundledModule::Scalar => include_bytes!(env!("FERROVEC_WASM_SOLVER_SCALAR")),
            BundledModule::Simd => include_bytes!(env!("FERROVEC_WASM_SOLVER_SIMD")),
        })
    }
    #[cfg(not(feature = "bundled-wasm"))]
    {
        let _ = which;
        None
    }
}

/// The bytes of a module embedded in this library at build time, or `None` if the library
/// was built without the `bundled-wasm` feature (`make build` turns it on).
pub fn bundled_module(which: BundledModule) -> Option<&'static [u8]> {
    #[cfg(feature = "bundled-wasm")]
    {
        // build.rs points these at target/wasm/ and fails the build if the files are missing.
        Some(match which {
            BundledModule::Scalar => include_bytes!(env!("FERROVEC_WASM_SCALAR")),
            BundledModule::Simd => include_bytes!(env!("FERROVEC_WASM_SIMD")),
        })
    }
    #[cfg(not(feature = "bundled-wasm"))]
    {
        let _ = which;
        None
    }
}

#[derive(Clone)]
enum ModuleSource {
    Bundled(BundledModule),
    Bytes(Arc<[u8]>),
}

/// How to build an [`Interpreted`] backend.
///
/// ```no_run
/// use ferrovec::backend::InterpretedOptions;
///
/// # fn main() -> ferrovec::Result<()> {
/// let bytes = std::fs::read("target/wasm/ferrovec-simd.wasm").unwrap();
/// let backend = InterpretedOptions::new()
///     .module(bytes)
///     .fuel(Some(50_000_000))
///     .memory_limit(Some(64 << 20))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InterpretedOptions {
    source: ModuleSource,
    fuel: Option<u64>,
    memory_limit: Option<usize>,
    sha256: Option<[u8; 32]>,
    host_kernels: bool,
    solver: Option<Arc<[u8]>>,
    encoder: Option<Arc<[u8]>>,
}

impl Default for InterpretedOptions {
    fn default() -> Self {
        InterpretedOptions::new()
    }
}

impl fmt::Debug for InterpretedOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            ModuleSource::Bundled(which) => format!("bundled {}", which.file_name()),
            ModuleSource::Bytes(bytes) => format!("{} bytes", bytes.len()),
        };
        f.debug_struct("InterpretedOptions")
            .field("module", &source)
            .field("fuel", &self.fuel)
            .field("memory_limit", &self.memory_limit)
            .field("sha256", &self.sha256.map(|h| hex(&h)))
            .field("host_kernels", &self.host_kernels)
            .field("solver_module", &self.solver.as_ref().map(|b| b.len()))
            .field("encoder_module", &self.encoder.as_ref().map(|b| b.len()))
            .finish()
    }
}

impl InterpretedOptions {
    /// The defaults: the bundled simd module, no fuel limit, no memory cap, any SHA-256.
    pub fn new() -> InterpretedOptions {
        InterpretedOptions {
            source: ModuleSource::Bundled(BundledModule::Simd),
            fuel: None,
            memory_limit: None,
            sha256: None,
            host_kernels: false,
            solver: None,
            encoder: None,
        }
    }

    /// The module that runs this backend's text encoders
    /// ([`Encoder`](crate::Encoder)): a `.wasm` implementing the `fv_encoder_*` functions
    /// (`ferrovec-encoder*.wasm`, capability bit 3), compiled on first use. Without it: the
    /// kernel module itself if it has the encoder, else the bundled encoder module of the
    /// same build as the bundled kernel module; with neither, loading an encoder is
    /// [`Error::InvalidModule`]. Not covered by [`expect_sha256`](Self::expect_sha256).
    ///
    /// An encoder's weights live in its instance's linear memory: with a
    /// [`memory_limit`](Self::memory_limit), allow the model file's size plus about 16 MB
    /// (all-MiniLM-L6-v2: `Some(128 << 20)` is enough).
    pub fn encoder_module(mut self, bytes: impl Into<Arc<[u8]>>) -> InterpretedOptions {
        self.encoder = Some(bytes.into());
        self
    }

    /// The module that holds this backend's sparse matrices and graphs
    /// ([`SparseMatrix`](crate::solver::SparseMatrix), [`Graph`](crate::solver::Graph)):
    /// a `.wasm` implementing the solver functions of ABI v3 (`ferrovec-solver*.wasm`,
    /// capability bit 2), compiled on first use. Without it: the kernel module itself if it
    /// has the solver, else the bundled solver module of the same build as the bundled
    /// kernel module; with neither, creating a matrix or graph is
    /// [`Error::InvalidModule`]. Not covered by [`expect_sha256`](Self::expect_sha256).
    pub fn solver_module(mut self, bytes: impl Into<Arc<[u8]>>) -> InterpretedOptions {
        self.solver = Some(bytes.into());
        self
    }

    /// Run these module bytes (a `.wasm` binary implementing ABI v1) instead of the bundled
    /// module.
    pub fn module(mut self, bytes: impl Into<Arc<[u8]>>) -> InterpretedOptions {
        self.source = ModuleSource::Bytes(bytes.into());
        self
    }

    /// Run one of the bundled modules (only in builds with the `bundled-wasm` feature).
    pub fn bundled(mut self, which: BundledModule) -> InterpretedOptions {
        self.source = ModuleSource::Bundled(which);
        self
    }

    /// The fuel (roughly, wasm instructions) each call may use; `None` (the default) for no
    /// limit. `Some(0)` is refused by [`build`](Self::build).
    pub fn fuel(mut self, per_call: Option<u64>) -> InterpretedOptions {
        self.fuel = per_call;
        self
    }

    /// The most bytes the module's linear memory may grow to; `None` (the default) for the
    /// wasm32 limit of 4 GiB. It must hold the module's initial memory (about 1 MiB for
    /// ferrovec's modules) plus the largest call's inputs and outputs, and, for a text
    /// encoder, its model's weights (see [`encoder_module`](Self::encoder_module)). The cap
    /// applies to each instance (each index, matrix, graph and encoder has its own).
    pub fn memory_limit(mut self, bytes: Option<usize>) -> InterpretedOptions {
        self.memory_limit = bytes;
        self
    }

    /// Refuse any module whose SHA-256 is not `digest`.
    pub fn expect_sha256(mut self, digest: [u8; 32]) -> InterpretedOptions {
        self.sha256 = Some(digest);
        self
    }

    /// Let the module import ferrovec's host kernels (module `"ferrovec_host"`, the
    /// `fv_host_*` functions of `core/src/kernels/wasm32/host.rs`), which the backend
    /// supplies from the native kernels, bounds-checking every pointer against the module's
    /// memory. This is for the host-kernels build `ferrovec-host.wasm` (`make wasm`): engine
    /// logic in the sandbox, hot loops at native speed. Off by default: a module with any
    /// import is refused. Other imports are refused either way.
    pub fn host_kernels(mut self, allow: bool) -> InterpretedOptions {
        self.host_kernels = allow;
        self
    }

    /// Checks, compiles and instantiates the module.
    ///
    /// Fails with [`Error::InvalidModule`] if the module is not the expected SHA-256, is not
    /// valid wasm (or uses features wasmi lacks), has imports or a start function, lacks an
    /// export of the ABI (or has it with another signature), or reports another ABI version;
    /// [`Error::OutOfMemory`] if the memory cap is below the module's initial memory;
    /// [`Error::InvalidArgument`] for a zero fuel budget or a bundled module this build
    /// does not have.
    pub fn build(&self) -> Result<Interpreted> {
        Interpreted::new(self)
    }
}

/// What a loaded module says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// `fv_abi_version()`; always [`SUPPORTED_ABI_VERSION`] for a loaded module.
    pub abi_version: u32,
    /// `fv_capabilities()` (bit 0: simd128).
    pub capabilities: u32,
    /// SHA-256 of the module bytes.
    pub sha256: [u8; 32],
    /// Size of the module in bytes.
    pub size: usize,
    /// The module's initial linear memory in bytes.
    pub initial_memory: u64,
}

impl ModuleInfo {
    /// Whether the module was built with simd128 kernels.
    pub fn simd128(&self) -> bool {
        self.capabilities & CAP_SIMD128 != 0
    }

    /// The SHA-256 as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The typed exports of ABI v1.
struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    last_error: TypedFunc<u32, u32>,
    dot_f32: TypedFunc<(u32, u32, u32), f32>,
    cosine_distance_f32: TypedFunc<(u32, u32, u32), f32>,
    l2sq_f32: TypedFunc<(u32, u32, u32), f32>,
    dot_i8: TypedFunc<(u32, u32, u32), i32>,
    l2sq_i8: TypedFunc<(u32, u32, u32), u32>,
    hamming_b1: TypedFunc<(u32, u32, u32), u32>,
    jaccard_b1: TypedFunc<(u32, u32, u32), f32>,
    scan_f32: TypedFunc<(i32, u32, u32, u32, u32, u32), i32>,
}

/// The ABI functions staging and error reporting call, borrowed from `exports`.
fn abi_memory(exports: &Exports, memory_limit: Option<usize>) -> AbiMemory<'_> {
    AbiMemory {
        alloc: &exports.alloc,
        free: &exports.free,
        last_error: &exports.last_error,
        memory: exports.memory,
        memory_limit,
    }
}

/// One instance of the module and its scratch block.
struct Live {
    store: Store<StoreLimits>,
    exports: Exports,
    /// The block kept for staging arguments.
    scratch: Scratch,
    /// The cap on linear memory (for messages; the store's limiter enforces it).
    memory_limit: Option<usize>,
}

/// The wasm module inside wasmi. Build one with [`InterpretedOptions`].
pub struct Interpreted {
    engine: WasmEngine,
    module: Module,
    fuel: Option<u64>,
    memory_limit: Option<usize>,
    info: ModuleInfo,
    /// `None` after a call abandoned the instance; the next call instantiates again.
    live: Mutex<Option<Live>>,
    /// Where the solver module comes from (see [`InterpretedOptions::solver_module`]).
    solver_source: SolverSource,
    /// The solver module, compiled on first use.
    solver: OnceLock<std::result::Result<Module, Error>>,
    /// Where the encoder module comes from (see [`InterpretedOptions::encoder_module`]).
    encoder_source: SolverSource,
    /// The encoder module, compiled on first use, and its capability bits.
    encoder: OnceLock<std::result::Result<(Module, u32), Error>>,
}

/// Where an [`Interpreted`] backend's solver (or encoder) module comes from.
enum SolverSource {
    /// The kernel module has the engine itself.
    Same,
    Bytes(Arc<[u8]>),
    Bundled(&'static [u8]),
    None,
}

impl fmt::Debug for Interpreted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpreted")
            .field("info", &self.info)
            .field("fuel", &self.fuel)
            .field("memory_limit", &self.memory_limit)
            .finish_non_exhaustive()
    }
}

impl Interpreted {
    fn new(options: &InterpretedOptions) -> Result<Interpreted> {
        if options.fuel == Some(0) {
            return Err(Error::InvalidArgument(
                "a fuel budget of 0 would fail every call; use None for no limit".to_string(),
            ));
        }
        let bytes: &[u8] = match &options.source {
            ModuleSource::Bytes(bytes) => bytes,
            ModuleSource::Bundled(which) => bundled_module(*which).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "this build of ferrovec has no bundled {} (it was built without the \
                     `bundled-wasm` feature): pass the module bytes",
                    which.file_name()
                ))
            })?,
        };
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(expected) = options.sha256 {
            if expected != sha256 {
                return Err(Error::InvalidModule(format!(
                    "its SHA-256 is {}, expected {}",
                    hex(&sha256),
                    hex(&expected)
                )));
            }
        }

        let mut config = Config::default();
        config
            .consume_fuel(options.fuel.is_some())
            .wasm_simd(true)
            // No code may run on instantiation: ferrovec's modules have no start function.
            .allow_start_fn(false)
            // Compile everything now: later calls then cost the same fuel every time and
            // never fail on a function body that does not validate.
            .compilation_mode(CompilationMode::Eager);
        let engine = WasmEngine::new(&config);
        let module = compile(&engine, bytes, "not a valid wasm module")?;
        super::host_kernels::check_imports(&module, options.host_kernels)?;
        let initial_memory = match module.get_export("memory") {
            Some(ExternType::Memory(ty)) => ty.minimum().saturating_mul(PAGE),
            _ => {
                return Err(Error::InvalidModule(
                    "it does not export a linear memory named `memory`".to_string(),
                ))
            }
        };
        if let Some(cap) = options.memory_limit {
            if (cap as u64) < initial_memory {
                return Err(Error::OutOfMemory(format!(
                    "the memory limit of {cap} bytes is below the module's initial memory of \
                     {initial_memory} bytes"
                )));
            }
        }
        let mut backend = Interpreted {
            engine,
            module,
            fuel: options.fuel,
            memory_limit: options.memory_limit,
            info: ModuleInfo {
                abi_version: 0,
                capabilities: 0,
                sha256,
                size: bytes.len(),
                initial_memory,
            },
            live: Mutex::new(None),
            solver_source: SolverSource::None,
            solver: OnceLock::new(),
            encoder_source: SolverSource::None,
            encoder: OnceLock::new(),
        };
        let (live, abi_version, capabilities) = backend.instantiate()?;
        backend.info.abi_version = abi_version;
        backend.info.capabilities = capabilities;
        backend.solver_source = match (&options.solver, &options.source) {
            (Some(bytes), _) => SolverSource::Bytes(Arc::clone(bytes)),
            (None, _) if capabilities & CAP_SOLVER != 0 => SolverSource::Same,
            (None, ModuleSource::Bundled(which)) => {
                bundled_solver_module(*which).map_or(SolverSource::None, SolverSource::Bundled)
            }
            (None, ModuleSource::Bytes(_)) => SolverSource::None,
        };
        backend.encoder_source = match (&options.encoder, &options.source) {
            (Some(bytes), _) => SolverSource::Bytes(Arc::clone(bytes)),
            (None, _) if capabilities & CAP_ENCODER != 0 => SolverSource::Same,
            (None, ModuleSource::Bundled(which)) => {
                bundled_encoder_module(*which).map_or(SolverSource::None, SolverSource::Bundled)
            }
            (None, ModuleSource::Bytes(_)) => SolverSource::None,
        };
        backend.live = Mutex::new(Some(live));
        Ok(backend)
    }

    /// What the module says about itself.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// The fuel budget per call, if any.
    pub fn fuel(&self) -> Option<u64> {
        self.fuel
    }

    /// The cap on the module's linear memory, if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// The solver module (compiled on first use) and the limits, for a matrix or graph in
    /// its own instance (`interpreted_solver.rs`).
    pub(super) fn solver_sandbox(&self) -> Result<super::module_call::Sandbox> {
        let module = self
            .solver
            .get_or_init(|| {
                let bytes: &[u8] = match &self.solver_source {
                    SolverSource::Same => return Ok(self.module.clone()),
                    SolverSource::Bytes(bytes) => bytes,
                    SolverSource::Bundled(bytes) => bytes,
                    SolverSource::None => {
                        return Err(Error::InvalidModule(format!(
                            "the module has no sparse solver (capability bit 2 of ABI \
                         {SUPPORTED_ABI_VERSION}) and this backend has no solver module: pass \
                         one (ferrovec-solver-simd.wasm) to InterpretedOptions::solver_module"
                        )))
                    }
                };
                let module = compile(&self.engine, bytes, "the solver module is not valid wasm")?;
                if module.imports().len() != 0 {
                    return Err(Error::InvalidModule(
                        "the solver module has imports; it must import nothing".into(),
                    ));
                }
                check_engine_module(
                    &self.engine,
                    &module,
                    self.fuel.is_some(),
                    CAP_SOLVER,
                    "solver",
                )
                .map(drop)?;
                Ok(module)
            })
            .clone()?;
        Ok(super::module_call::Sandbox {
            engine: self.engine.clone(),
            module,
            fuel: self.fuel,
            memory_limit: self.memory_limit,
        })
    }

    /// The encoder module (compiled on first use) and the limits, for an encoder in its own
    /// instance (`interpreted_encoder.rs`), with the module's capability bits.
    pub(super) fn encoder_sandbox(&self) -> Result<(super::module_call::Sandbox, u32)> {
        let (module, capabilities) = self
            .encoder
            .get_or_init(|| {
                let bytes: &[u8] = match &self.encoder_source {
                    SolverSource::Same => return Ok((self.module.clone(), self.info.capabilities)),
                    SolverSource::Bytes(bytes) => bytes,
                    SolverSource::Bundled(bytes) => bytes,
                    SolverSource::None => {
                        return Err(Error::InvalidModule(
                            "the module has no text encoder (capability bit 3) and this \
                             backend has no encoder module: pass one \
                             (ferrovec-encoder-simd.wasm) to InterpretedOptions::encoder_module"
                                .to_string(),
                        ))
                    }
                };
                let module = Module::new(&self.engine, bytes).map_err(|e| {
                    Error::InvalidModule(format!("the encoder module is not valid wasm: {e}"))
                })?;
                if module.imports().len() != 0 {
                    return Err(Error::InvalidModule(
                        "the encoder module has imports; it must import nothing".into(),
                    ));
                }
                let capabilities = check_engine_module(
                    &self.engine,
                    &module,
                    self.fuel.is_some(),
                    CAP_ENCODER,
                    "encoder",
                )?;
                Ok((module, capabilities))
            })
            .clone()?;
        let sandbox = super::module_call::Sandbox {
            engine: self.engine.clone(),
            module,
            fuel: self.fuel,
            memory_limit: self.memory_limit,
        };
        Ok((sandbox, capabilities))
    }

    /// The compiled module and the limits, for an engine object in its own instance.
    pub(super) fn sandbox(&self) -> super::module_call::Sandbox {
        super::module_call::Sandbox {
            engine: self.engine.clone(),
            module: self.module.clone(),
            fuel: self.fuel,
            memory_limit: self.memory_limit,
        }
    }

    /// The current size of the module's linear memory in bytes (0 while no instance is
    /// live, i.e. right after a call was abandoned).
    pub fn memory_size(&self) -> usize {
        let live = self.lock();
        live.as_ref()
            .map_or(0, |l| l.exports.memory.data_size(&l.store))
    }

    /// A fresh store and instance, with the ABI checked. Returns the ABI version and the
    /// capabilities too.
    fn instantiate(&self) -> Result<(Live, u32, u32)> {
        let mut limits = StoreLimitsBuilder::new().instances(1).memories(1);
        if let Some(cap) = self.memory_limit {
            limits = limits.memory_size(cap);
        }
        let mut store = Store::new(&self.engine, limits.build());
        store.limiter(|limits| limits);
        if self.fuel.is_some() {
            store.set_fuel(INSTANTIATION_FUEL).map_err(internal)?;
        }
        let instance = super::host_kernels::instantiate(&mut store, &self.module).map_err(|e| {
            if e.as_trap_code() == Some(TrapCode::OutOfFuel) {
                Error::InvalidModule(format!(
                    "instantiating it took more than {INSTANTIATION_FUEL} fuel"
                ))
            } else {
                Error::InvalidModule(format!("it could not be instantiated: {e}"))
            }
        })?;
        let memory = instance.get_memory(&store, "memory").ok_or_else(|| {
            Error::InvalidModule("it does not export a linear memory named `memory`".into())
        })?;
        fn func<P: WasmParams, R: WasmResults>(
            instance: &Instance,
            store: &Store<StoreLimits>,
            name: &str,
        ) -> Result<TypedFunc<P, R>> {
            instance.get_typed_func::<P, R>(store, name).map_err(|e| {
                Error::InvalidModule(format!(
                    "export `{name}` is missing or has the wrong signature ({e}); \
                     see wasm/README.md for ABI version {SUPPORTED_ABI_VERSION}"
                ))
            })
        }
        let abi_version = func::<(), u32>(&instance, &store, "fv_abi_version")?
            .call(&mut store, ())
            .map_err(|e| Error::InvalidModule(format!("`fv_abi_version` failed: {e}")))?;
        if abi_version != SUPPORTED_ABI_VERSION {
            return Err(Error::InvalidModule(format!(
                "it implements ABI version {abi_version}, this host implements version \
                 {SUPPORTED_ABI_VERSION}"
            )));
        }
        let capabilities = func::<(), u32>(&instance, &store, "fv_capabilities")?
            .call(&mut store, ())
            .map_err(|e| Error::InvalidModule(format!("`fv_capabilities` failed: {e}")))?;
        let exports = Exports {
            memory,
            alloc: func(&instance, &store, "fv_alloc")?,
            free: func(&instance, &store, "fv_free")?,
            last_error: func(&instance, &store, "fv_last_error")?,
            dot_f32: func(&instance, &store, "fv_dot_f32")?,
            cosine_distance_f32: func(&instance, &store, "fv_cosine_distance_f32")?,
            l2sq_f32: func(&instance, &store, "fv_l2sq_f32")?,
            dot_i8: func(&instance, &store, "fv_dot_i8")?,
            l2sq_i8: func(&instance, &store, "fv_l2sq_i8")?,
            hamming_b1: func(&instance, &store, "fv_hamming_b1")?,
            jaccard_b1: func(&instance, &store, "fv_jaccard_b1")?,
            scan_f32: func(&instance, &store, "fv_scan_f32")?,
        };
        let live = Live {
            store,
            exports,
            scratch: Scratch::default(),
            memory_limit: self.memory_limit,
        };
        Ok((live, abi_version, capabilities))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Live>> {
        self.live.lock().unwrap_or_else(|poisoned| {
            // A panic inside a call (a bug) may have left the instance mid-call: drop it.
            let mut guard = poisoned.into_inner();
            *guard = None;
            self.live.clear_poison();
            guard
        })
    }

    /// Runs `body` on the live instance (instantiating one if needed) with a fresh fuel
    /// budget, and turns its failure into an [`Error`], discarding the instance if wasmi
    /// stopped the call or the module broke the ABI.
    fn run<R>(&self, body: impl FnOnce(&mut Live) -> CallResult<R>) -> Result<R> {
        let mut guard = self.lock();
        let live = match &mut *guard {
            Some(live) => live,
            None => guard.insert(self.instantiate()?.0),
        };
        if let Some(budget) = self.fuel {
            live.store.set_fuel(budget).map_err(internal)?;
        }
        match body(live) {
            Ok(value) => Ok(value),
            Err(Fail::Clean(err)) => Err(err),
            Err(Fail::Wasm(err)) => {
                *guard = None;
                Err(match (err.as_trap_code(), self.fuel) {
                    (Some(TrapCode::OutOfFuel), Some(budget)) => Error::OutOfFuel { budget },
                    _ => Error::Trap(err.to_string()),
                })
            }
            Err(Fail::Broken(what)) => {
                *guard = None;
                Err(Error::Trap(format!("the module broke its ABI: {what}")))
            }
        }
    }

    /// The common shape of the pairwise kernels: stage `a` and `b`, call, and if the result
    /// is `sentinel` (NaN for f32) ask the module whether that was an error.
    fn pair<T: Elem, R: WasmResults + Copy>(
        &self,
        a: &[T],
        b: &[T],
        func: impl FnOnce(&Exports) -> TypedFunc<(u32, u32, u32), R>,
        is_sentinel: impl FnOnce(R) -> bool,
    ) -> Result<R> {
        self.run(|live| {
            let [pa, pb] = live.stage([size_of_val(a), size_of_val(b)])?;
            live.write(pa, a)?;
            live.write(pb, b)?;
            let f = func(&live.exports);
            let result = f.call(&mut live.store, (pa, pb, a.len() as u32))?;
            if is_sentinel(result) {
                live.check_error(None)?;
            }
            Ok(result)
        })
    }
}

/// Maps a wasmi error that should not happen to [`Error::Internal`].
fn internal(err: wasmi::Error) -> Error {
    Error::Internal(format!("wasmi: {err}"))
}

impl Live {
    /// Offsets in the scratch block for buffers of the given byte sizes (see
    /// [`Scratch::stage`]).
    fn stage<const N: usize>(&mut self, sizes: [usize; N]) -> CallResult<[u32; N]> {
        let abi = abi_memory(&self.exports, self.memory_limit);
        self.scratch.stage(&mut self.store, &abi, sizes)
    }

    fn write<T: Elem>(&mut self, at: u32, src: &[T]) -> CallResult<()> {
        let memory = self.exports.memory.data_mut(&mut self.store);
        let dst = memory
            .get_mut(at as usize..at as usize + size_of_val(src))
            .ok_or_else(|| Fail::Broken(format!("buffer at {at} is out of bounds")))?;
        T::to_le_bytes(src, dst);
        Ok(())
    }

    fn read<T: Elem>(&self, at: u32, dst: &mut [T]) -> CallResult<()> {
        let memory = self.exports.memory.data(&self.store);
        let src = memory
            .get(at as usize..at as usize + size_of_val(dst))
            .ok_or_else(|| Fail::Broken(format!("buffer at {at} is out of bounds")))?;
        T::from_le_bytes(src, dst);
        Ok(())
    }

    /// The module's last error message ("" if none).
    fn message(&mut self) -> CallResult<String> {
        abi_memory(&self.exports, self.memory_limit).message(&mut self.store)
    }

    /// After a sentinel result or a non-zero `status`: fails if the module reports an error.
    fn check_error(&mut self, status: Option<(i32, Metric)>) -> CallResult<()> {
        let message = self.message()?;
        if message.is_empty() && status.is_none() {
            return Ok(());
        }
        // The host checked every argument the way the core does, so the module refusing one
        // means it disagrees with the core: say so, with its own words.
        let code = status.map(|(code, _)| code);
        Err(Fail::Clean(
            match (code, message.strip_prefix("invalid argument: ")) {
                (Some(-4), _) => Error::UnknownMetric(status.map_or(0, |(_, m)| m.code())),
                (Some(-3) | None, Some(rest)) => Error::InvalidArgument(rest.to_string()),
                _ => Error::Internal(format!(
                    "the wasm module refused arguments the host accepted (status {}): {message}",
                    code.map_or("none".to_string(), |c| c.to_string())
                )),
            },
        ))
    }
}

/// Element types copied to and from module memory (little-endian there).
trait Elem: Copy {
    fn to_le_bytes(src: &[Self], dst: &mut [u8]);
    fn from_le_bytes(src: &[u8], dst: &mut [Self]);
}

impl Elem for u8 {
    fn to_le_bytes(src: &[u8], dst: &mut [u8]) {
        dst.copy_from_slice(src);
    }
    fn from_le_bytes(src: &[u8], dst: &mut [u8]) {
        dst.copy_from_slice(src);
    }
}

impl Elem for i8 {
    fn to_le_bytes(src: &[i8], dst: &mut [u8]) {
        // SAFETY: i8 and u8 have the same size and every bit pattern is valid for both.
        let src = unsafe { std::slice::from_raw_parts(src.as_ptr().cast::<u8>(), src.len()) };
        dst.copy_from_slice(src);
    }
    fn from_le_bytes(src: &[u8], dst: &mut [i8]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s as i8;
        }
    }
}

impl Elem for f32 {
    fn to_le_bytes(src: &[f32], dst: &mut [u8]) {
        if cfg!(target_endian = "little") {
            // SAFETY: an f32 is 4 plain bytes with no padding; the view covers exactly `src`.
            let src =
                unsafe { std::slice::from_raw_parts(src.as_ptr().cast::<u8>(), size_of_val(src)) };
            // The scan's rows: a prefetching copy (host_kernels.rs) beats memcpy here.
            super::host_kernels::copy_bytes(dst, src);
        } else {
            for (d, s) in dst.chunks_exact_mut(4).zip(src) {
                d.copy_from_slice(&s.to_le_bytes());
            }
        }
    }
    fn from_le_bytes(src: &[u8], dst: &mut [f32]) {
        if cfg!(target_endian = "little") {
            // SAFETY: every 4-byte pattern is a valid f32; the view covers exactly `dst`,
            // which we borrow mutably.
            let dst = unsafe {
                std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), size_of_val(dst))
            };
            dst.copy_from_slice(src);
        } else {
            for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
    }
}

/// Tells a NaN that reports an error from one computed from NaN inputs.
fn nan(x: f32) -> bool {
    x.is_nan()
}

impl Backend for Interpreted {
    /// The encoder lives in its own instance of the encoder module
    /// (`interpreted_encoder.rs`); never native code, which the platforms that choose this
    /// backend forbid. Int8 weights need a module with capability bit 5
    /// (`CAP_ENCODER_INT8`); with an older module they are [`Error::InvalidModule`].
    fn load_encoder(
        &self,
        files: ferrovec_core::encoder::ModelFiles<'_>,
    ) -> Result<Box<dyn crate::encoder::EncoderBackend>> {
        super::interpreted_encoder::load_encoder(self, files)
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Interpreted
    }

    fn describe(&self) -> String {
        format!(
            "interpreted (wasmi; {} module, abi {}, sha256 {}…{}{})",
            if self.info.simd128() {
                "simd128"
            } else {
                "scalar"
            },
            self.info.abi_version,
            &self.info.sha256_hex()[..12],
            match self.fuel {
                Some(fuel) => format!(", fuel {fuel}/call"),
                None => String::new(),
            },
            match self.memory_limit {
                Some(cap) => format!(", memory cap {cap} bytes"),
                None => String::new(),
            }
        )
    }

    fn dot_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        self.pair(a, b, |x| x.dot_f32, nan)
    }

    fn cosine_distance_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        self.pair(a, b, |x| x.cosine_distance_f32, nan)
    }

    fn l2sq_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        self.pair(a, b, |x| x.l2sq_f32, nan)
    }

    /// ABI v1 has no normalize export: the module computes the squared norm (`fv_dot_f32`
    /// of `x` with itself, the kernel's only reduction) and the host scales, exactly as
    /// every core kernel does (`sqrt`, then one multiply by `1 / norm` per element, unless the
    /// norm is zero or not finite).
    fn l2_normalize_f32(&self, x: &mut [f32]) -> Result<f32> {
        let norm_sq = self.run(|live| {
            let [p] = live.stage([size_of_val(x)])?;
            live.write(p, x)?;
            let dot = live.exports.dot_f32;
            let norm_sq = dot.call(&mut live.store, (p, p, x.len() as u32))?;
            if norm_sq.is_nan() {
                live.check_error(None)?;
            }
            Ok(norm_sq)
        })?;
        let norm = norm_sq.sqrt();
        if norm > 0.0 && norm.is_finite() {
            let inv = 1.0 / norm;
            x.iter_mut().for_each(|v| *v *= inv);
        }
        Ok(norm)
    }

    /// The rows go through the module in chunks of about [`SCAN_CHUNK_BYTES`]: each chunk
    /// is copied into the scratch block right before the module scans it, so the module
    /// reads rows the copy just left in the cache. (Copying all rows first and scanning them
    /// after makes every row load in the interpreter a cache miss that its serial dispatch
    /// cannot hide: twice as slow for 30 MB of rows.) It also keeps the module's memory
    /// small. The scores are collected in module memory and copied out only when every
    /// chunk succeeded, so a failure still leaves `out` untouched.
    fn scan_f32(&self, metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<()> {
        check_scan(query, rows, out)?;
        let dims = query.len();
        let chunk_rows = match dims {
            0 => out.len().max(1),
            _ => (SCAN_CHUNK_BYTES / (dims * 4)).clamp(1, out.len().max(1)),
        };
        self.run(|live| {
            let [pq, po, pr] =
                live.stage([size_of_val(query), size_of_val(out), chunk_rows * dims * 4])?;
            live.write(pq, query)?;
            let scan = live.exports.scan_f32;
            let mut first = 0;
            // One call even for zero rows, so the module sees every call.
            loop {
                let n = chunk_rows.min(out.len() - first);
                live.write(pr, &rows[first * dims..(first + n) * dims])?;
                let args = (
                    metric.code(),
                    pq,
                    pr,
                    n as u32,
                    dims as u32,
                    po + 4 * first as u32,
                );
                let status = scan.call(&mut live.store, args)?;
                if status != 0 {
                    live.check_error(Some((status, metric)))?;
                }
                first += n;
                if first >= out.len() {
                    break;
                }
            }
            live.read(po, out)
        })
    }

    fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32> {
        check_same_len(a.len(), b.len())?;
        self.pair(a, b, |x| x.dot_i8, |r| r == i32::MIN)
    }

    fn l2sq_i8(&self, a: &[i8], b: &[i8]) -> Result<u32> {
        check_same_len(a.len(), b.len())?;
        self.pair(a, b, |x| x.l2sq_i8, |r| r == u32::MAX)
    }

    fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        check_b1(a, b)?;
        self.pair(a, b, |x| x.hamming_b1, |r| r == u32::MAX)
    }

    fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        check_b1(a, b)?;
        self.pair(a, b, |x| x.jaccard_b1, nan)
    }

    /// The index lives in its own instance of this module (`interpreted_index.rs`).
    fn new_index(&self, options: IndexOptions) -> Result<Box<dyn IndexBackend>> {
        super::interpreted_index::new_index(self, options)
    }

    fn load_index(&self, bytes: &[u8]) -> Result<Box<dyn IndexBackend>> {
        super::interpreted_index::load_index(self, bytes)
    }

    /// The matrix lives in its own instance of the solver module
    /// (`interpreted_solver.rs`).
    fn new_matrix(
        &self,
        matrix: ferrovec_core::sparse::CsrMatrix,
    ) -> Result<Box<dyn crate::solver::MatrixBackend>> {
        super::interpreted_solver::new_matrix(self, matrix)
    }

    fn new_graph(
        &self,
        graph: ferrovec_core::sparse::Graph,
    ) -> Result<Box<dyn crate::solver::GraphBackend>> {
        super::interpreted_solver::new_graph(self, graph)
    }
}

/// Instantiates an engine's module (`what`: "solver" or "encoder") once (no limits but
/// instantiation fuel), checks its ABI version and capability bit `cap`, and returns its
/// capability bits.
fn check_engine_module(
    engine: &WasmEngine,
    module: &Module,
    fuel: bool,
    cap: u32,
    what: &str,
) -> Result<u32> {
    let mut store = Store::new(engine, StoreLimitsBuilder::new().build());
    store.limiter(|limits| limits);
    if fuel {
        store.set_fuel(INSTANTIATION_FUEL).map_err(internal)?;
    }
    let instance = wasmi::Linker::<StoreLimits>::new(engine)
        .instantiate_and_start(&mut store, module)
        .map_err(|e| {
            Error::InvalidModule(format!("the {what} module could not be instantiated: {e}"))
        })?;
    let get = |store: &mut Store<StoreLimits>, name: &str| -> Result<u32> {
        instance
            .get_typed_func::<(), u32>(&*store, name)
            .and_then(|f| f.call(&mut *store, ()))
            .map_err(|e| Error::InvalidModule(format!("the {what} module's `{name}`: {e}")))
    };
    let version = get(&mut store, "fv_abi_version")?;
    if version != SUPPORTED_ABI_VERSION {
        return Err(Error::InvalidModule(format!(
            "the {what} module implements ABI version {version}, this host implements version \
             {SUPPORTED_ABI_VERSION}"
        )));
    }
    let capabilities = get(&mut store, "fv_capabilities")?;
    if capabilities & cap == 0 {
        return Err(Error::InvalidModule(format!(
            "the {what} module does not have the {what} (capability bit {})",
            cap.trailing_zeros()
        )));
    }
    Ok(capabilities)
}

/// Compiles (validates and translates, eagerly) untrusted module bytes. An invalid module
/// is [`Error::InvalidModule`], `what` and wasmi's reason; so is a panic inside wasmi's
/// translator, which must not reach the app: wasmi 2.0.0 has at least one debug assertion
/// that fuzzed modules hit (an operator after a function's final `end` is translated before
/// the validator's end-of-function check refuses it; see fuzz/README.md, finding 3). Release
/// builds skip that assertion and refuse the module cleanly; this catch covers debug builds
/// and any other translator panic. The engine's locks are spin locks (no poisoning) and its
/// translation buffers are reset before reuse, so it stays usable.
fn compile(engine: &WasmEngine, bytes: &[u8], what: &str) -> Result<Module> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Module::new(engine, bytes))) {
        Ok(Ok(module)) => Ok(module),
        Ok(Err(e)) => Err(Error::InvalidModule(format!("{what}: {e}"))),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            Err(Error::InvalidModule(format!(
                "{what}: the wasm compiler (wasmi) panicked on it: {reason}"
            )))
        }
    }
}
