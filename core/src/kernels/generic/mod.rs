//! Loops written once for every instruction set (memchr's `arch/generic`): each is generic
//! over a small per-ISA vector trait, and each ISA's module instantiates it with its own
//! registers inside a `#[target_feature]` function.
//!
//! The f64 family (SpMV and the solvers' vector operations): its summation order is the
//! same on every instruction set (see [`F64Vector`] and the `sparse` module docs), so one
//! loop serves scalar code (a 1-lane "vector"), 128-bit NEON and simd128, AVX2 and AVX-512
//! alike. The f32 encoder family (`dense`: GEMM, softmax, LayerNorm, GELU) over
//! `dense::F32Vector`, each ISA with its own register tile.

// The scalar wasm module has no SIMD table: only the scalar GEMM instantiates the loops.
#[cfg_attr(
    all(target_arch = "wasm32", not(target_feature = "simd128")),
    allow(dead_code, unused_macros)
)]
pub(crate) mod dense;
pub(crate) mod sparse;
pub(crate) mod vector_f64;

/// Partial sums of every f64 reduction: term `i` of a sum goes to partial sum `i mod 16`.
pub(crate) const PARTIALS: usize = 16;

/// One register of f64 lanes on one instruction set, for the loops of this module.
///
/// Every method is `unsafe` because the CPU must support the instruction set (x86_64), and
/// the pointer methods because the caller vouches for the memory. They are
/// `#[inline(always)]` without `#[target_feature]`, so they inline into the
/// `#[target_feature]` kernels that call them and compile with those features.
///
/// Arithmetic is IEEE 754 double precision with one rounding per operation and no fused
/// multiply-add: that, and the fixed lane assignment of the loops, is what makes every
/// instruction set return the same bits.
pub(crate) trait F64Vector: Copy {
    /// f64 lanes per register: 1, 2, 4 or 8 (a divisor of [`PARTIALS`]).
    const LANES: usize;
    /// Whether code over this vector may be compiled outside the ISA's `#[target_feature]`
    /// kernels, as a function of its own: true when the whole build has the instruction
    /// set (scalar, NEON, simd128), false when only `#[target_feature]` functions do (x86).
    const STANDALONE: bool;
    /// All lanes `+0.0`.
    unsafe fn zero() -> Self;
    /// All lanes `v`.
    unsafe fn splat(v: f64) -> Self;
    /// `LANES` values from `p` (no alignment needed).
    unsafe fn load(p: *const f64) -> Self;
    /// The first `r` values from `p` (`0 < r < LANES`), the other lanes `+0.0`; reads
    /// nothing past them.
    unsafe fn load_first(p: *const f64, r: usize) -> Self;
    /// Stores all lanes to `p`.
    unsafe fn store(self, p: *mut f64);
    /// Stores the first `r` lanes to `p` (`0 < r < LANES`); writes nothing past them.
    unsafe fn store_first(self, p: *mut f64, r: usize);
    /// `x[idx[l]]` in lane `l`, for the `LANES` u32 indices at `idx`.
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self;
    /// [`gather`](Self::gather) of the first `r` lanes (`0 < r < LANES`), the other lanes
    /// `+0.0`; reads no index and no value past them.
    unsafe fn gather_first(x: *const f64, idx: *const u32, r: usize) -> Self;
    /// Lane-wise `self + other`.
    unsafe fn add(self, other: Self) -> Self;
    /// Lane-wise `self - other`.
    unsafe fn sub(self, other: Self) -> Self;
    /// Lane-wise `self * other`.
    unsafe fn mul(self, other: Self) -> Self;
    /// Lane-wise `|self|` (the sign bit cleared).
    unsafe fn abs(self) -> Self;
    /// The sum of the lanes by halving: `lane[l] + lane[l + LANES/2]` until one is left
    /// (the last levels of [`reduce_partials`]).
    unsafe fn reduce_add(self) -> f64;
}

/// The sum of 16 partial sums by halving: `p[k] + p[k + 8]`, then `+ [k + 4]`, `+ [k + 2]`,
/// `+ [k + 1]`. Every f64 reduction of every instruction set ends this way.
#[inline(always)]
pub(crate) fn reduce_partials(mut p: [f64; PARTIALS]) -> f64 {
    let mut half = PARTIALS / 2;
    while half > 0 {
        for k in 0..half {
            p[k] += p[k + half];
        }
        half /= 2;
    }
    p[0]
}

/// [`reduce_partials`] on partial sums held in `PARTIALS / V::LANES` registers (partial `k`
/// in register `k / LANES`, lane `k mod LANES`): the first levels add registers, the last
/// ones halve inside a register.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn reduce_registers<V: F64Vector>(mut acc: [V; PARTIALS]) -> f64 {
    let mut regs = PARTIALS / V::LANES;
    // SAFETY: the caller vouches for the CPU.
    unsafe {
        while regs > 1 {
            regs /= 2;
            for j in 0..regs {
                acc[j] = acc[j].add(acc[j + regs]);
            }
        }
        acc[0].reduce_add()
    }
}

/// A plain `f64` as a 1-lane vector: the portable instance of the generic loops (the scalar
/// table, and every table's short rows).
impl F64Vector for f64 {
    const LANES: usize = 1;
    const STANDALONE: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        0.0
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        v
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller vouches for one readable value at `p`.
        unsafe { *p }
    }

    #[inline(always)]
    unsafe fn load_first(_: *const f64, _: usize) -> Self {
        // `0 < r < 1` is impossible: the loops never call this for one lane.
        0.0
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller vouches for one writable value at `p`.
        unsafe { *p = self }
    }

    #[inline(always)]
    unsafe fn store_first(self, _: *mut f64, _: usize) {}

    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for the index and the value it names.
        unsafe { *x.add(*idx as usize) }
    }

    #[inline(always)]
    unsafe fn gather_first(_: *const f64, _: *const u32, _: usize) -> Self {
        0.0
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        self + other
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        self - other
    }

    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        self * other
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        f64::from_bits(self.to_bits() & !(1 << 63))
    }

    #[inline(always)]
    unsafe fn reduce_add(self) -> f64 {
        self
    }
}

/// Defines one instruction set's f64 solver kernels, each a thin instance of the generic
/// loops with that ISA's [`F64Vector`]s (`vector` for the vector operations, `rows` for the
/// rows of a matrix product), and the table of them, `SPARSE`. The
/// function names are spelled out (`{op}_{type}_{isa}`) so a reader finds them by name.
///
/// `[unsafe]` before `fn` makes the functions `unsafe` (x86_64: the CPU must support the
/// instruction set); `[]` makes them safe (scalar, and NEON and simd128, which are always
/// present where they are compiled).
macro_rules! sparse_kernels {
    (
        vector: $v:ty,
        rows: $rv:ty,
        $(#[$attr:meta])*
        [$($qual:tt)*] fn {
            spmv_csr_f64: $spmv:ident,
            spmv_dots_csr_f64: $spmv_dots:ident,
            residual_csr_f64: $residual:ident,
            jacobi_csr_f64: $jacobi:ident,
            pagerank_csr_f64: $pagerank:ident,
            dot_f64: $dot:ident,
            nrm2_f64: $nrm2:ident,
            axpy_f64: $axpy:ident,
            xpby_f64: $xpby:ident,
            axpy_dot_f64: $axpy_dot:ident,
            axpy_dots_f64: $axpy_dots:ident,
            axpy_jacobi_dots_f64: $axpy_jacobi_dots:ident,
            axpy2_f64: $axpy2:ident,
            bicgstab_p_f64: $bicgstab_p:ident,
            axpy_xpby_f64: $axpy_xpby:ident $(,)?
        }
    ) => {
        use $crate::kernels::generic::{sparse as g_sparse, vector_f64 as g_vector};
        use $crate::kernels::sparse::{CsrRef, SparseKernels};

        /// This instruction set's f64 solver kernels.
        pub(crate) static SPARSE: SparseKernels = SparseKernels {
            spmv_csr_f64: $spmv,
            spmv_dots_csr_f64: $spmv_dots,
            residual_csr_f64: $residual,
            jacobi_csr_f64: $jacobi,
            pagerank_csr_f64: $pagerank,
            dot_f64: $dot,
            nrm2_f64: $nrm2,
            axpy_f64: $axpy,
            xpby_f64: $xpby,
            axpy_dot_f64: $axpy_dot,
            axpy_dots_f64: $axpy_dots,
            axpy_jacobi_dots_f64: $axpy_jacobi_dots,
            axpy2_f64: $axpy2,
            bicgstab_p_f64: $bicgstab_p,
            axpy_xpby_f64: $axpy_xpby,
        };

        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $spmv(a: &CsrRef<'_>, x: &[f64], y: &mut [f64])
            => g_sparse::spmv::<$rv>(a, x, y)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $spmv_dots(a: &CsrRef<'_>, x: &[f64], w: &[f64], y: &mut [f64]) -> [f64; 2]
            => g_sparse::spmv_dots::<$rv>(a, x, w, y)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $residual(a: &CsrRef<'_>, x: &[f64], b: &[f64], r: &mut [f64]) -> f64
            => g_sparse::residual::<$rv>(a, x, b, r)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $jacobi(a: &CsrRef<'_>, d: &[f64], b: &[f64], x: &[f64], x_next: &mut [f64]) -> f64
            => g_sparse::jacobi::<$rv>(a, d, b, x, x_next)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $pagerank(a: &CsrRef<'_>, alpha: f64, beta: f64, x: &[f64], y: &mut [f64]) -> f64
            => g_sparse::pagerank::<$rv>(a, alpha, beta, x, y)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $dot(a: &[f64], b: &[f64]) -> f64
            => g_vector::dot::<$v>(a, b)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $nrm2(x: &[f64]) -> f64
            => g_vector::nrm2::<$v>(x)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy(a: f64, x: &[f64], y: &mut [f64])
            => g_vector::axpy::<$v>(a, x, y)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $xpby(x: &[f64], b: f64, y: &mut [f64])
            => g_vector::xpby::<$v>(x, b, y)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy_dot(a: f64, x: &[f64], y: &mut [f64]) -> f64
            => g_vector::axpy_dots::<$v, false>(a, x, y, &[])[1]
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy_dots(a: f64, x: &[f64], y: &mut [f64], w: &[f64]) -> [f64; 2]
            => g_vector::axpy_dots::<$v, true>(a, x, y, w)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy_jacobi_dots(
                a: f64,
                x: &[f64],
                y: &mut [f64],
                d: &[f64],
                z: &mut [f64],
            ) -> [f64; 2]
            => g_vector::axpy_jacobi_dots::<$v>(a, x, y, d, z)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy2(a: f64, x: &[f64], b: f64, y: &[f64], z: &mut [f64])
            => g_vector::axpy2::<$v>(a, x, b, y, z)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $bicgstab_p(beta: f64, omega: f64, r: &[f64], v: &[f64], p: &mut [f64])
            => g_vector::bicgstab_p::<$v>(beta, omega, r, v, p)
        );
        $crate::kernels::generic::sparse_kernels!(
            @fn $(#[$attr])* [$($qual)*]
            $axpy_xpby(a: f64, b: f64, z: &[f64], x: &mut [f64], p: &mut [f64])
            => g_vector::axpy_xpby::<$v>(a, b, z, x, p)
        );
    };
    (
        @fn $(#[$attr:meta])* [$($qual:tt)*]
        $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:expr
    ) => {
        #[doc = concat!("`", stringify!($name), "`: see the `Kernels` method of that name ",
            "without the ISA suffix.")]
        ///
        /// # Safety
        /// The CPU must support the instruction set this function is compiled for (always
        /// the case for the safe scalar, NEON and simd128 versions).
        $(#[$attr])*
        pub(crate) $($qual)* fn $name($($arg: $ty),*) $(-> $ret)? {
            // SAFETY: the generic loops only need the CPU features this function is compiled
            // with, which its own contract (or the target) guarantees; they stay within the
            // slices (and a CsrRef's invariants) by themselves.
            unsafe { $body }
        }
    };
}
#[cfg_attr(
    all(target_arch = "wasm32", not(target_feature = "simd128")),
    allow(unused_imports)
)]
pub(crate) use dense::dense_kernels;
pub(crate) use sparse_kernels;
