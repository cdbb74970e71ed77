//! Choosing the kernel table: detect once, cache the choice, let tests force a level.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::{scalar, Isa, Kernels};
use crate::Result;

/// Every table compiled into this build, from the most portable to the best. Which of them
/// this machine runs is decided by each table's `supported` check.
static ALL: &[&Kernels] = &[
    &scalar::KERNELS,
    #[cfg(target_arch = "x86_64")]
    &super::x86_64::AVX2,
    #[cfg(target_arch = "x86_64")]
    &super::x86_64::AVX512,
    #[cfg(target_arch = "x86_64")]
    &super::x86_64::AVX512_VNNI,
    #[cfg(target_arch = "x86_64")]
    &super::x86_64::AVX512_VPOPCNTDQ,
    #[cfg(target_arch = "x86_64")]
    &super::x86_64::AVX512_VNNI_VPOPCNTDQ,
    #[cfg(target_arch = "aarch64")]
    &super::aarch64::NEON,
    // The scalar wasm module's table (a scan shaped for an interpreter; wasm32/mod.rs).
    #[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
    &super::wasm32::SCALAR_WASM,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    &super::wasm32::SIMD128,
    // Last, so the host-kernels build of the wasm module uses it (wasm32/host.rs).
    #[cfg(all(target_arch = "wasm32", feature = "host-kernels"))]
    &super::wasm32::HOST,
];

/// Index into `ALL` of the active table, or `UNSET` before the first call.
static ACTIVE: AtomicUsize = AtomicUsize::new(UNSET);
const UNSET: usize = usize::MAX;

pub(super) fn variants() -> impl Iterator<Item = &'static Kernels> {
    ALL.iter().copied().filter(|k| (k.supported)())
}

#[inline]
pub(super) fn active() -> &'static Kernels {
    // Relaxed is enough: every value ever stored names a valid immutable static.
    match ALL.get(ACTIVE.load(Ordering::Relaxed)) {
        Some(kernels) => kernels,
        None => detect(),
    }
}

#[cold]
fn detect() -> &'static Kernels {
    let chosen = env_override()
        .or_else(|| variants().last())
        .unwrap_or(&scalar::KERNELS);
    set_active(chosen);
    chosen
}

/// `FERROVEC_ISA=avx2` (say) picks that instruction set at first use. Unknown or unsupported
/// names are ignored; [`active_isa`] tells what was chosen.
#[cfg(feature = "std")]
fn env_override() -> Option<&'static Kernels> {
    let name = std::env::var("FERROVEC_ISA").ok()?;
    Kernels::for_isa(Isa::from_name(&name)?).ok()
}

#[cfg(not(feature = "std"))]
fn env_override() -> Option<&'static Kernels> {
    None
}

fn set_active(kernels: &'static Kernels) {
    if let Some(index) = ALL.iter().position(|k| core::ptr::eq(*k, kernels)) {
        ACTIVE.store(index, Ordering::Relaxed);
    }
}

/// The instruction set of the active kernel table.
pub fn active_isa() -> Isa {
    active().isa
}

/// Makes `isa` the active instruction set for the whole process (its best variant), e.g. to
/// benchmark or test a lower level. Fails, changing nothing, if this machine cannot run it.
///
/// This is process-global; tests that compare levels side by side should use
/// [`Kernels::for_isa`] or [`Kernels::variants`] instead.
pub fn force(isa: Isa) -> Result<()> {
    set_active(Kernels::for_isa(isa)?);
    Ok(())
}

/// What executes this code, for the kernels whose fastest loop shape depends on it (both
/// shapes return the same bits; only speed differs). Today that is the wasm32 scans: a
/// compiler (V8, SpiderMonkey, wasmtime, any JIT or AOT engine) keeps several rows' partial
/// sums in registers, while an interpreter (wasmi) pays per operator and is faster with the
/// query held in locals. Native tables have one shape and ignore the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EngineHint {
    /// Compiled code (native, or a wasm JIT/AOT engine): the default.
    #[default]
    Compiler,
    /// A wasm interpreter that dispatches every operator, such as wasmi.
    Interpreter,
}

/// Whether [`EngineHint::Interpreter`] was set.
static INTERPRETED: AtomicBool = AtomicBool::new(false);

/// Tells the kernels what executes them (process-global; see [`EngineHint`]). The wasm
/// module's `fv_set_engine_hint` calls this; results do not depend on it.
pub fn set_engine_hint(hint: EngineHint) {
    INTERPRETED.store(hint == EngineHint::Interpreter, Ordering::Relaxed);
}

/// The hint last given to [`set_engine_hint`] ([`EngineHint::Compiler`] if none).
#[inline]
pub fn engine_hint() -> EngineHint {
    if INTERPRETED.load(Ordering::Relaxed) {
        EngineHint::Interpreter
    } else {
        EngineHint::Compiler
    }
}
