//! Random call sequences through the C API (`ffi/src/capi`), as a C program would make them:
//! engines, indexes, sparse matrices and graphs created, used, freed, and passed back in
//! after being freed (the live-handle registries must refuse those). Every buffer passed is
//! as long as the call's contract says, so under ASan (cargo fuzz's default) any memory
//! error is the library's.

use std::ptr::{null, null_mut};

use ferrovec::capi::*;

use crate::input::Input;

/// Status codes the C API documents.
fn documented(status: i32) -> bool {
    status == FV_OK || (-14..=-1).contains(&status) || status == FV_ERR_INTERNAL
}

fn check(status: i32) -> bool {
    assert!(documented(status), "undocumented status {status}");
    if status != FV_OK {
        let msg = fv_last_error_message();
        assert!(!msg.is_null(), "an error without a message");
        // Internal errors are bugs: a caught panic or a broken invariant.
        assert_ne!(status, FV_ERR_INTERNAL, "internal error");
    }
    status == FV_OK
}

struct Engines {
    native: *mut fv_engine,
    interpreted: *mut fv_engine,
}

thread_local! {
    /// One native and one interpreted engine (the bundled module), made once and never
    /// freed: compiling the module each run would dominate the target's speed.
    static ENGINES: Engines = {
        let mut native = null_mut();
        let mut interpreted = null_mut();
        // SAFETY: NULL options are allowed (defaults); `out` points to a local.
        unsafe {
            assert_eq!(fv_engine_new(FV_BACKEND_NATIVE, null(), &mut native), FV_OK);
            assert_eq!(fv_engine_new(FV_BACKEND_INTERPRETED, null(), &mut interpreted), FV_OK);
        }
        Engines { native, interpreted }
    };
}

/// Handles of one kind: live ones, and freed ones kept to be passed back in.
struct Pool<T> {
    live: Vec<*mut T>,
    freed: Vec<*mut T>,
}

impl<T> Pool<T> {
    fn new() -> Self {
        Pool {
            live: Vec::new(),
            freed: Vec::new(),
        }
    }

    /// A live handle, a freed one (if `stale_ok`), or NULL.
    fn pick(&self, input: &mut Input<'_>, stale_ok: bool) -> (*mut T, bool) {
        let b = input.u8();
        if b % 16 == 15 {
            return (null_mut(), false);
        }
        if stale_ok && b % 16 == 14 && !self.freed.is_empty() {
            // Only pointers whose address no live handle reuses are stale for sure.
            let p = self.freed[b as usize % self.freed.len()];
            if !self.live.contains(&p) {
                return (p, true);
            }
        }
        match self.live.len() {
            0 => (null_mut(), false),
            n => (self.live[b as usize % n], false),
        }
    }

    fn free(&mut self, p: *mut T) {
        if let Some(i) = self.live.iter().position(|&q| q == p) {
            self.live.swap_remove(i);
            self.freed.push(p);
        }
    }
}

fn floats(input: &mut Input<'_>, n: usize) -> Vec<f32> {
    (0..n).map(|_| input.f32()).collect()
}

fn doubles(input: &mut Input<'_>, n: usize) -> Vec<f64> {
    (0..n).map(|_| input.f64()).collect()
}

fn indices(input: &mut Input<'_>, n: usize, max: u32) -> Vec<u32> {
    (0..n).map(|_| input.small(max)).collect()
}

/// A stale handle must be refused as such.
fn expect_stale(status: i32) {
    assert_eq!(
        status, FV_ERR_INVALID_HANDLE,
        "a freed handle was not refused"
    );
}

/// The target: up to 48 calls, then every live handle freed.
pub fn capi(data: &[u8]) {
    ENGINES.with(|engines| run(engines, data));
}

fn run(engines: &Engines, data: &[u8]) {
    let mut input = Input::new(data);
    let mut indexes: Pool<fv_index> = Pool::new();
    let mut matrices: Pool<fv_sparse_matrix> = Pool::new();
    let mut graphs: Pool<fv_graph> = Pool::new();
    let mut saved: Vec<Vec<u8>> = Vec::new();
    for _ in 0..48 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let engine = if op & 0x80 != 0 {
            engines.interpreted
        } else {
            engines.native
        };
        // SAFETY (every call below): handles are live, freed-and-registered (refused by the
        // registries) or NULL; every pointer/length pair describes a live Rust buffer at
        // least that long; out-pointers point to locals.
        unsafe {
            match op % 24 {
                0 => {
                    let mut o = fv_index_options_default();
                    o.dims = input.small(16) as usize;
                    o.metric = input.small(5) as i32 - (input.u8().is_multiple_of(8)) as i32;
                    o.storage = input.small(3) as i32;
                    o.kind = input.small(2) as i32;
                    o.m = input.small(16) as usize;
                    o.ef_construction = input.small(64) as usize;
                    o.ef_search = input.small(64) as usize;
                    o.seed = input.u64();
                    let mut out = null_mut();
                    if check(fv_index_new(engine, &o, &mut out)) {
                        assert!(!out.is_null());
                        indexes.live.push(out);
                    }
                }
                1 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let s = fv_index_free(ix);
                    if stale {
                        expect_stale(s);
                    } else if check(s) && !ix.is_null() {
                        indexes.free(ix);
                    }
                }
                2 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let n = input.len(17);
                    let v = floats(&mut input, n);
                    let s = fv_index_add(
                        ix,
                        input.small(32) as u64,
                        v.as_ptr(),
                        n,
                        input.small(2) as i32,
                    );
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                3 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let n = input.len(17);
                    let q = floats(&mut input, n);
                    let k = input.len(40);
                    let mut keys = vec![u64::MAX; k];
                    let mut dist = vec![f32::NAN; k];
                    let mut count = usize::MAX;
                    let s = fv_index_search(
                        ix,
                        q.as_ptr(),
                        n,
                        k,
                        keys.as_mut_ptr(),
                        dist.as_mut_ptr(),
                        &mut count,
                    );
                    if stale {
                        expect_stale(s);
                    } else if check(s) {
                        assert!(count <= k, "count {count} > k {k}");
                    }
                }
                4 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let s = fv_index_remove(ix, input.small(32) as u64);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                5 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let s = fv_index_compact(ix);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                6 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let mut bytes = null_mut();
                    let mut len = 0usize;
                    let s = fv_index_save_bytes(ix, &mut bytes, &mut len);
                    if stale {
                        expect_stale(s);
                    } else if check(s) {
                        assert!(!bytes.is_null());
                        saved.push(std::slice::from_raw_parts(bytes, len).to_vec());
                        fv_bytes_free(bytes, len);
                    }
                }
                7 => {
                    // Load saved bytes, maybe with a byte changed and the checksum resealed.
                    let mut bytes = match saved.len() {
                        0 => {
                            let n = input.len(128);
                            input.bytes(n).to_vec()
                        }
                        n => saved[input.u8() as usize % n].clone(),
                    };
                    if !bytes.is_empty() && input.u8().is_multiple_of(2) {
                        let at = input.u16() as usize % bytes.len();
                        bytes[at] ^= input.u8() | 1;
                        bytes = crate::reseal(&bytes);
                    }
                    let mut out = null_mut();
                    if check(fv_index_load_bytes(
                        engine,
                        bytes.as_ptr(),
                        bytes.len(),
                        &mut out,
                    )) {
                        indexes.live.push(out);
                    }
                }
                8 => {
                    let (ix, stale) = indexes.pick(&mut input, true);
                    let s = fv_index_clear(ix);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                9 => {
                    let n_rows = input.len(12);
                    let n_cols = input.small(12) as usize & 0x1_FFFF;
                    let nnz = input.len(24);
                    let n_indptr = if input.u8().is_multiple_of(4) {
                        input.len(14)
                    } else {
                        n_rows + 1
                    };
                    let mut indptr = indices(&mut input, n_indptr, 24);
                    indptr.sort_unstable();
                    let idx = indices(&mut input, nnz, 13);
                    let vals = doubles(&mut input, nnz);
                    let mut out = null_mut();
                    let f = if input.u8().is_multiple_of(2) {
                        fv_sparse_matrix_from_csr
                    } else {
                        fv_sparse_matrix_from_csr_unsorted
                    };
                    if check(f(
                        engine,
                        n_rows,
                        n_cols,
                        indptr.as_ptr(),
                        n_indptr,
                        idx.as_ptr(),
                        vals.as_ptr(),
                        nnz,
                        &mut out,
                    )) {
                        matrices.live.push(out);
                    }
                }
                10 => {
                    let n = input.small(12) as usize & 0x1_FFFF;
                    let nnz = input.len(32);
                    let rows = indices(&mut input, nnz, 13);
                    let cols = indices(&mut input, nnz, 13);
                    let vals = doubles(&mut input, nnz);
                    let mut out = null_mut();
                    if check(fv_sparse_matrix_from_triplets(
                        engine,
                        n,
                        n,
                        rows.as_ptr(),
                        cols.as_ptr(),
                        vals.as_ptr(),
                        nnz,
                        &mut out,
                    )) {
                        matrices.live.push(out);
                    }
                }
                11 => {
                    let n = input.len(200);
                    let text = input.bytes(n);
                    let mut out = null_mut();
                    if check(fv_sparse_matrix_from_matrix_market(
                        engine,
                        text.as_ptr(),
                        text.len(),
                        &mut out,
                    )) {
                        matrices.live.push(out);
                    }
                }
                12 => {
                    let (m, stale) = matrices.pick(&mut input, true);
                    let s = fv_sparse_matrix_free(m);
                    if stale {
                        expect_stale(s);
                    } else if check(s) && !m.is_null() {
                        matrices.free(m);
                    }
                }
                13 => {
                    let (m, stale) = matrices.pick(&mut input, true);
                    let (mut r, mut c, mut z) = (0, 0, 0);
                    let s = fv_sparse_matrix_shape(m, &mut r, &mut c, &mut z);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                14 => {
                    let (m, stale) = matrices.pick(&mut input, true);
                    let n = input.len(13);
                    let x = doubles(&mut input, n);
                    let mut y = vec![0.0; input.len(13)];
                    let s =
                        fv_sparse_matrix_mul_vec(m, x.as_ptr(), x.len(), y.as_mut_ptr(), y.len());
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                15..=17 => {
                    let (m, stale) = matrices.pick(&mut input, true);
                    let n = input.len(13);
                    let b = doubles(&mut input, n);
                    let mut x = vec![0.0; input.len(13)];
                    let mut o = fv_solve_options_default();
                    o.max_iterations = input.small(50) as i64 - 1;
                    o.preconditioner = input.small(2) as i32;
                    if input.u8().is_multiple_of(4) {
                        o.rtol = input.f64();
                    }
                    let s = match op % 24 {
                        15 => {
                            let mut r =
                                std::mem::MaybeUninit::<fv_solve_report>::zeroed().assume_init();
                            fv_sparse_matrix_cg(
                                m,
                                b.as_ptr(),
                                b.len(),
                                &o,
                                x.as_mut_ptr(),
                                x.len(),
                                &mut r,
                            )
                        }
                        16 => {
                            let mut r =
                                std::mem::MaybeUninit::<fv_solve_report>::zeroed().assume_init();
                            fv_sparse_matrix_bicgstab(
                                m,
                                b.as_ptr(),
                                b.len(),
                                &o,
                                x.as_mut_ptr(),
                                x.len(),
                                &mut r,
                            )
                        }
                        _ => {
                            let mut r =
                                std::mem::MaybeUninit::<fv_jacobi_report>::zeroed().assume_init();
                            fv_sparse_matrix_jacobi(
                                m,
                                b.as_ptr(),
                                b.len(),
                                &o,
                                x.as_mut_ptr(),
                                x.len(),
                                &mut r,
                            )
                        }
                    };
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                18 => {
                    let n = input.small(12) as usize & 0x1_FFFF;
                    let e = input.len(32);
                    let src = indices(&mut input, e, 13);
                    let dst = indices(&mut input, e, 13);
                    let w = doubles(&mut input, e);
                    let wp = if input.u8().is_multiple_of(2) {
                        null()
                    } else {
                        w.as_ptr()
                    };
                    let mut out = null_mut();
                    if check(fv_graph_from_edges(
                        engine,
                        n,
                        src.as_ptr(),
                        dst.as_ptr(),
                        wp,
                        e,
                        &mut out,
                    )) {
                        graphs.live.push(out);
                    }
                }
                19 => {
                    let n = input.len(12);
                    let e = input.len(24);
                    let n_indptr = if input.u8().is_multiple_of(4) {
                        input.len(14)
                    } else {
                        n + 1
                    };
                    let mut indptr = indices(&mut input, n_indptr, 24);
                    indptr.sort_unstable();
                    let idx = indices(&mut input, e, 13);
                    let w = doubles(&mut input, e);
                    let wp = if input.u8().is_multiple_of(2) {
                        null()
                    } else {
                        w.as_ptr()
                    };
                    let mut out = null_mut();
                    if check(fv_graph_from_csr(
                        engine,
                        n,
                        indptr.as_ptr(),
                        n_indptr,
                        idx.as_ptr(),
                        wp,
                        e,
                        &mut out,
                    )) {
                        graphs.live.push(out);
                    }
                }
                20 => {
                    let (g, stale) = graphs.pick(&mut input, true);
                    let s = fv_graph_free(g);
                    if stale {
                        expect_stale(s);
                    } else if check(s) && !g.is_null() {
                        graphs.free(g);
                    }
                }
                21 => {
                    let (g, stale) = graphs.pick(&mut input, true);
                    let mut o = fv_pagerank_options_default();
                    o.alpha = if input.u8().is_multiple_of(4) {
                        input.f64()
                    } else {
                        0.85
                    };
                    o.max_iter = input.small(60) as usize;
                    if input.u8().is_multiple_of(2) {
                        o.personalization = fv_distribution_node(input.small(13));
                    }
                    let mut scores = vec![0.0; input.len(13)];
                    let mut r = std::mem::MaybeUninit::<fv_pagerank_report>::zeroed().assume_init();
                    let s = fv_graph_pagerank(g, &o, scores.as_mut_ptr(), scores.len(), &mut r);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
                22 => {
                    let (g, stale) = graphs.pick(&mut input, true);
                    let mut o = fv_push_options_default();
                    if input.u8().is_multiple_of(4) {
                        o.eps = input.f64();
                        o.alpha = input.f64();
                    }
                    o.max_pushes = input.small(5000) as u64;
                    let source = fv_distribution_node(input.small(13));
                    let cap = input.len(16);
                    let mut nodes = vec![u32::MAX; cap];
                    let mut scores = vec![f64::NAN; cap];
                    let mut count = usize::MAX;
                    let mut r = std::mem::MaybeUninit::<fv_push_report>::zeroed().assume_init();
                    let s = fv_graph_forward_push(
                        g,
                        &source,
                        &o,
                        nodes.as_mut_ptr(),
                        scores.as_mut_ptr(),
                        cap,
                        &mut count,
                        &mut r,
                    );
                    if stale {
                        expect_stale(s);
                    } else if check(s) {
                        assert!(count <= cap);
                    }
                }
                _ => {
                    let (g, stale) = graphs.pick(&mut input, true);
                    let (mut n, mut e) = (0, 0);
                    let s = fv_graph_size(g, &mut n, &mut e);
                    if stale {
                        expect_stale(s);
                    } else {
                        check(s);
                    }
                }
            }
        }
    }
    // SAFETY: every pointer in `live` is a live handle of its type, freed once here.
    unsafe {
        for ix in indexes.live {
            assert_eq!(fv_index_free(ix), FV_OK);
        }
        for m in matrices.live {
            assert_eq!(fv_sparse_matrix_free(m), FV_OK);
        }
        for g in graphs.live {
            assert_eq!(fv_graph_free(g), FV_OK);
        }
    }
}
