//! The host side of the wasm module's host-kernels build (`ferrovec-host.wasm`): its
//! kernels are imports from the module `"ferrovec_host"` (signatures in
//! `core/src/kernels/wasm32/host.rs`), which this file implements with the native kernels
//! of the active table, reading and writing the calling instance's memory.
//!
//! The module keeps everything else (argument checks, error reporting, the index); only the
//! hot loops leave the interpreter. Every pointer the module passes is bounds-checked
//! against its memory: a bad one (or lengths the native kernel refuses) makes the import
//! return an error, which wasmi turns into a trap, so a broken or hostile module can fail
//! its own call but never reach outside its memory.
//!
//! A module only gets these functions if the backend was built with
//! [`InterpretedOptions::host_kernels`](super::InterpretedOptions::host_kernels); without it
//! a module with imports is refused, as before.

use std::borrow::Cow;

use ferrovec_core::kernels::{Kernels, Metric};
use ferrovec_core::{Error, Result};
use wasmi::{
    Caller, Engine as WasmEngine, Extern, ExternType, Instance, Linker, Module, Store, StoreLimits,
};

/// The import module name of the host kernels.
pub const HOST_MODULE: &str = "ferrovec_host";

/// Every host kernel a module may import.
const NAMES: [&str; 9] = [
    "fv_host_dot_f32",
    "fv_host_l2sq_f32",
    "fv_host_cosine_parts_f32",
    "fv_host_l2_normalize_f32",
    "fv_host_scan_f32",
    "fv_host_dot_i8",
    "fv_host_l2sq_i8",
    "fv_host_hamming_b1",
    "fv_host_jaccard_b1",
];

/// Checks a module's imports: none, or (when `allowed`) only functions of [`HOST_MODULE`]
/// with the names above (their signatures are checked when instantiating).
pub(crate) fn check_imports(module: &Module, allowed: bool) -> Result<()> {
    for import in module.imports() {
        let known = import.module() == HOST_MODULE
            && NAMES.contains(&import.name())
            && matches!(import.ty(), ExternType::Func(_));
        if !allowed || !known {
            return Err(Error::InvalidModule(format!(
                "it imports `{}`.`{}`, but a ferrovec module must import nothing{}",
                import.module(),
                import.name(),
                if allowed {
                    format!(" but the host kernels (`{HOST_MODULE}`.`fv_host_*`)")
                } else {
                    " (host kernels need InterpretedOptions::host_kernels(true))".to_string()
                }
            )));
        }
    }
    Ok(())
}

/// Instantiates `module` in `store`, linking the host kernels if it imports any (only
/// modules that passed [`check_imports`] get here), and tells it that an interpreter runs
/// it (`fv_set_engine_hint(1)`, where the module exports it: the scans then take the loop
/// shape that is fastest in wasmi; results are the same bits either way).
pub(crate) fn instantiate(
    store: &mut Store<StoreLimits>,
    module: &Module,
) -> std::result::Result<Instance, wasmi::Error> {
    let instance = if module.imports().len() == 0 {
        Instance::new(&mut *store, module, &[])?
    } else {
        linker(store.engine())?.instantiate_and_start(&mut *store, module)?
    };
    if let Ok(set_hint) = instance.get_typed_func::<u32, i32>(&*store, "fv_set_engine_hint") {
        // 1 is always valid; a module that refuses it (or traps) keeps its default shape,
        // which computes the same results.
        let _ = set_hint.call(&mut *store, ENGINE_HINT_INTERPRETER);
    }
    Ok(instance)
}

/// `fv_set_engine_hint`'s value for an interpreter (wasm/README.md).
const ENGINE_HINT_INTERPRETER: u32 = 1;

type Call<'a> = Caller<'a, StoreLimits>;
type HostResult<T> = std::result::Result<T, wasmi::Error>;

fn linker(engine: &WasmEngine) -> HostResult<Linker<StoreLimits>> {
    let mut l = Linker::new(engine);
    let m = HOST_MODULE;
    l.func_wrap(m, "fv_host_dot_f32", |c: Call, a: u32, b: u32, n: u32| {
        let data = memory(&c)?;
        let (a, b) = (read::<f32>(data, a, n)?, read::<f32>(data, b, n)?);
        core(kernels().dot_f32(&a, &b))
    })?;
    l.func_wrap(m, "fv_host_l2sq_f32", |c: Call, a: u32, b: u32, n: u32| {
        let data = memory(&c)?;
        let (a, b) = (read::<f32>(data, a, n)?, read::<f32>(data, b, n)?);
        core(kernels().l2sq_f32(&a, &b))
    })?;
    l.func_wrap(
        m,
        "fv_host_cosine_parts_f32",
        |mut c: Call, a: u32, b: u32, n: u32, out: u32| {
            let data = memory(&c)?;
            let (a, b) = (read::<f32>(data, a, n)?, read::<f32>(data, b, n)?);
            let parts = kernels().cosine_parts_f32(&a, &b);
            write(&mut c, out, &parts)
        },
    )?;
    l.func_wrap(
        m,
        "fv_host_l2_normalize_f32",
        |mut c: Call, x: u32, n: u32| {
            let mut v = read::<f32>(memory(&c)?, x, n)?.into_owned();
            let norm = kernels().l2_normalize_f32(&mut v);
            write(&mut c, x, &v)?;
            Ok(norm)
        },
    )?;
    l.func_wrap(
        m,
        "fv_host_scan_f32",
        |mut c: Call, metric: i32, query: u32, dims: u32, rows: u32, n_rows: u32, out: u32| {
            let metric = core(Metric::from_code(metric))?;
            let total = dims
                .checked_mul(n_rows)
                .ok_or_else(|| wasmi::Error::new("n_rows * dims overflows"))?;
            let data = memory(&c)?;
            // The output must fit in the module's memory before anything is allocated for
            // it: a hostile n_rows (with dims 0) would otherwise ask for up to 16 GB here.
            range::<f32>(out, n_rows, data.len())?;
            let mut scores = vec![0.0f32; n_rows as usize];
            let (query, rows) = (
                read::<f32>(data, query, dims)?,
                read::<f32>(data, rows, total)?,
            );
            core(kernels().scan_f32(metric, &query, &rows, &mut scores))?;
            write(&mut c, out, &scores)
        },
    )?;
    l.func_wrap(m, "fv_host_dot_i8", |c: Call, a: u32, b: u32, n: u32| {
        let data = memory(&c)?;
        let (a, b) = (read::<i8>(data, a, n)?, read::<i8>(data, b, n)?);
        core(kernels().dot_i8(&a, &b))
    })?;
    l.func_wrap(m, "fv_host_l2sq_i8", |c: Call, a: u32, b: u32, n: u32| {
        let data = memory(&c)?;
        let (a, b) = (read::<i8>(data, a, n)?, read::<i8>(data, b, n)?);
        core(kernels().l2sq_i8(&a, &b))
    })?;
    l.func_wrap(
        m,
        "fv_host_hamming_b1",
        |c: Call, a: u32, b: u32, n: u32| {
            let data = memory(&c)?;
            let (a, b) = (read::<u8>(data, a, n)?, read::<u8>(data, b, n)?);
            core(kernels().hamming_b1(&a, &b)).map(u64::from)
        },
    )?;
    l.func_wrap(
        m,
        "fv_host_jaccard_b1",
        |mut c: Call, a: u32, b: u32, n: u32, out: u32| {
            let data = memory(&c)?;
            let (a, b) = (read::<u8>(data, a, n)?, read::<u8>(data, b, n)?);
            let (inter, union) = core(kernels().jaccard_counts_b1(&a, &b))?;
            write(&mut c, out, &[inter, union])
        },
    )?;
    Ok(l)
}

/// The native table the host kernels run on: the active one, like [`Native::new`].
///
/// [`Native::new`]: super::Native::new
fn kernels() -> &'static Kernels {
    Kernels::active()
}

/// A core error becomes a trap with its message.
fn core<T>(result: Result<T>) -> HostResult<T> {
    result.map_err(|e| wasmi::Error::new(format!("ferrovec host kernel: {e}")))
}

/// The calling instance's exported memory.
fn memory<'a>(caller: &'a Call<'_>) -> HostResult<&'a [u8]> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmi::Error::new("ferrovec host kernel: the module exports no memory"))?;
    Ok(memory.data(caller))
}

/// The byte range of `n` elements of `T` at `ptr`, if it lies within `len` bytes.
fn range<T>(ptr: u32, n: u32, len: usize) -> HostResult<std::ops::Range<usize>> {
    let start = ptr as usize;
    let end = (n as usize)
        .checked_mul(size_of::<T>())
        .and_then(|bytes| start.checked_add(bytes))
        .filter(|&end| end <= len)
        .ok_or_else(|| {
            wasmi::Error::new(format!(
                "ferrovec host kernel: {n} elements at {ptr} are out of bounds of the \
                 module's {len}-byte memory"
            ))
        })?;
    Ok(start..end)
}

/// Plain element types as they sit in wasm memory (little-endian).
trait Elem: Copy + 'static {
    fn from_le(bytes: &[u8]) -> Self;
    fn to_le(self, out: &mut [u8]);
}

macro_rules! elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn from_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("caller passes size_of bytes"))
            }
            fn to_le(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
elem!(f32, i8, u8, u64);

/// `n` elements of `T` at `ptr` in `data`: borrowed when the bytes are suitably aligned
/// (they are for every pointer ferrovec's module passes) on a little-endian host, else
/// copied.
fn read<T: Elem>(data: &[u8], ptr: u32, n: u32) -> HostResult<Cow<'_, [T]>> {
    let bytes = &data[range::<T>(ptr, n, data.len())?];
    if cfg!(target_endian = "little") {
        // SAFETY: T is f32, i8, u8 or u64: plain data for which every bit pattern is valid,
        // and `align_to` only puts correctly aligned, whole elements in the middle part.
        let (head, mid, tail) = unsafe { bytes.align_to::<T>() };
        if head.is_empty() && tail.is_empty() {
            return Ok(Cow::Borrowed(mid));
        }
    }
    Ok(Cow::Owned(
        bytes.chunks_exact(size_of::<T>()).map(T::from_le).collect(),
    ))
}

/// Writes `values` at `ptr` in the calling instance's memory.
fn write<T: Elem>(caller: &mut Call<'_>, ptr: u32, values: &[T]) -> HostResult<()> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmi::Error::new("ferrovec host kernel: the module exports no memory"))?;
    let data = memory.data_mut(caller);
    let n = u32::try_from(values.len()).map_err(|_| wasmi::Error::new("output too long"))?;
    let at = range::<T>(ptr, n, data.len())?;
    let dst = &mut data[at];
    for (out, v) in dst.chunks_exact_mut(size_of::<T>()).zip(values) {
        v.to_le(out);
    }
    Ok(())
}

/// Copies `src` into `dst` (same length): the backend's staging copy of large inputs (the
/// scan's rows) into module memory, which both the interpreted and the host-kernel scans
/// wait on (it reads the 30 MB of a 20,000 x 384 scan from DRAM).
///
/// On x86_64 with AVX2, large copies go through 32-byte loads and stores with a software
/// prefetch 1 KB ahead: measured here at 1.15 ms of CPU per 30 MB in 128 KB chunks, as fast
/// as only reading the data (1.1 ms), where glibc's `memcpy` (`rep movsb`) took 1.6 ms.
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= 16 * 1024 && dst.len() == src.len() && std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above) and the lengths are equal.
        unsafe { copy_avx2(dst, src) };
        return;
    }
    dst.copy_from_slice(src);
}

/// # Safety
/// The CPU must support AVX2; `dst.len() == src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn copy_avx2(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm256_storeu_si256, _mm_prefetch, _MM_HINT_T0,
    };
    const BLOCK: usize = 128;
    const AHEAD: usize = 1024;
    let blocks = src.len() / BLOCK;
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for i in 0..blocks {
        // SAFETY: block i (128 bytes) lies within both slices (i < len / 128, equal lengths);
        // the loads and stores are unaligned; a prefetch past the end never faults.
        unsafe {
            let p = s.add(i * BLOCK);
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(AHEAD).cast());
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(AHEAD + 64).cast());
            let p = p.cast::<__m256i>();
            let q = d.add(i * BLOCK).cast::<__m256i>();
            let (a, b) = (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)));
            let (c, e) = (_mm256_loadu_si256(p.add(2)), _mm256_loadu_si256(p.add(3)));
            _mm256_storeu_si256(q, a);
            _mm256_storeu_si256(q.add(1), b);
            _mm256_storeu_si256(q.add(2), c);
            _mm256_storeu_si256(q.add(3), e);
        }
    }
    let done = blocks * BLOCK;
    dst[done..].copy_from_slice(&src[done..]);
}

#[cfg(test)]
mod tests {
    //! A hostile module calling the host kernels with pointers and lengths of its choosing:
    //! every call outside its memory must trap (an error for the caller), never read or
    //! write outside the module's memory, panic, or allocate for the lie.
    use super::*;
    use wasmi::StoreLimitsBuilder;

    /// One 64 KiB page, two f32 vectors [1, 2, 3] and [4, 5, 6] at 0 and 16, and exports
    /// that forward their arguments to the imports unchanged.
    const HOSTILE: &str = r#"
        (module
          (import "ferrovec_host" "fv_host_dot_f32" (func $dot (param i32 i32 i32) (result f32)))
          (import "ferrovec_host" "fv_host_scan_f32"
            (func $scan (param i32 i32 i32 i32 i32 i32)))
          (import "ferrovec_host" "fv_host_l2_normalize_f32" (func $norm (param i32 i32) (result f32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\00\00\80\3f\00\00\00\40\00\00\40\40")
          (data (i32.const 16) "\00\00\80\40\00\00\a0\40\00\00\c0\40")
          (func (export "dot") (param i32 i32 i32) (result f32)
            (call $dot (local.get 0) (local.get 1) (local.get 2)))
          (func (export "scan") (param i32 i32 i32 i32 i32 i32)
            (call $scan (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
                        (local.get 5)))
          (func (export "norm") (param i32 i32) (result f32)
            (call $norm (local.get 0) (local.get 1))))
    "#;

    fn hostile() -> (Store<StoreLimits>, Instance) {
        let engine = WasmEngine::default();
        let bytes = wat::parse_str(HOSTILE).expect("test module parses");
        let module = Module::new(&engine, &bytes[..]).expect("test module compiles");
        check_imports(&module, true).expect("imports only host kernels");
        let mut store = Store::new(&engine, StoreLimitsBuilder::new().build());
        let instance = instantiate(&mut store, &module).expect("instantiates");
        (store, instance)
    }

    #[test]
    fn in_bounds_calls_compute_on_module_memory() {
        let (mut store, instance) = hostile();
        let dot = instance
            .get_typed_func::<(u32, u32, u32), f32>(&store, "dot")
            .unwrap();
        assert_eq!(dot.call(&mut store, (0, 16, 3)).unwrap(), 32.0);
        let scan = instance
            .get_typed_func::<(i32, u32, u32, u32, u32, u32), ()>(&store, "scan")
            .unwrap();
        // Dot metric (code of Metric::Dot), query at 0, one row at 16, output at 64.
        scan.call(&mut store, (Metric::Dot as i32, 0, 3, 16, 1, 64))
            .unwrap();
        let memory = instance.get_memory(&store, "memory").unwrap();
        let out = &memory.data(&store)[64..68];
        let score = f32::from_le_bytes(out.try_into().unwrap());
        let mut want = [0.0f32];
        kernels()
            .scan_f32(Metric::Dot, &[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], &mut want)
            .unwrap();
        assert_eq!(score, want[0]);
    }

    #[test]
    fn out_of_bounds_pointers_trap_and_leave_memory_alone() {
        let (mut store, instance) = hostile();
        let memory = instance.get_memory(&store, "memory").unwrap();
        let before = memory.data(&store).to_vec();
        let dot = instance
            .get_typed_func::<(u32, u32, u32), f32>(&store, "dot")
            .unwrap();
        let page = 65_536u32;
        for (a, b, n) in [
            (page - 8, 0, 3),                  // a runs past the end
            (0, page, 1),                      // b starts at the end
            (u32::MAX, 0, 1),                  // start beyond memory
            (0, 16, u32::MAX),                 // length far beyond memory
            (page - 4, page - 4, 0x4000_0001), // n * 4 wraps in u32
        ] {
            let err = dot.call(&mut store, (a, b, n)).unwrap_err();
            assert!(
                err.to_string().contains("out of bounds"),
                "dot({a}, {b}, {n}): {err}"
            );
        }
        let norm = instance
            .get_typed_func::<(u32, u32), f32>(&store, "norm")
            .unwrap();
        assert!(norm.call(&mut store, (page - 4, 2)).is_err());

        let scan = instance
            .get_typed_func::<(i32, u32, u32, u32, u32, u32), ()>(&store, "scan")
            .unwrap();
        let metric = Metric::Dot as i32;
        for args in [
            (metric, 0, 3, 16, 1, page - 2),    // output runs past the end
            (metric, 0, 3, page - 8, 1, 64),    // row runs past the end
            (metric, 0, 0, 0, u32::MAX, 64),    // dims 0: the output alone is 16 GB
            (metric, 0, 2, 0, u32::MAX, 64),    // n_rows * dims overflows
            (metric, 0, 0x8000_0000, 0, 1, 64), // query length beyond memory
            (99, 0, 3, 16, 1, 64),              // unknown metric
        ] {
            assert!(
                scan.call(&mut store, args).is_err(),
                "scan{args:?} must trap"
            );
        }
        assert_eq!(
            memory.data(&store),
            &before[..],
            "failed calls wrote to module memory"
        );
        // The instance still works after the traps.
        assert_eq!(dot.call(&mut store, (0, 16, 3)).unwrap(), 32.0);
    }
}
