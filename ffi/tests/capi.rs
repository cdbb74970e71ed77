//! The C ABI from Rust: constants agree with the core, and the checks C cannot do itself.

use std::ffi::CStr;

use ferrovec::capi::*;
use ferrovec::kernels::{self, Metric};
use ferrovec::Error;

fn last_error() -> String {
    // SAFETY: fv_last_error_message never returns null and the text is NUL-terminated.
    unsafe { CStr::from_ptr(fv_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn status_codes_match_core_errors() {
    let pairs = [
        (FV_ERR_NULL_POINTER, Error::NullPointer { arg: "x" }),
        (
            FV_ERR_DIMENSION_MISMATCH,
            Error::DimensionMismatch {
                expected: 1,
                actual: 2,
            },
        ),
        (
            FV_ERR_INVALID_ARGUMENT,
            Error::InvalidArgument(String::new()),
        ),
        (FV_ERR_UNKNOWN_METRIC, Error::UnknownMetric(9)),
        (FV_ERR_UNSUPPORTED_ISA, Error::UnsupportedIsa(String::new())),
        (FV_ERR_INTERNAL, Error::Internal(String::new())),
    ];
    for (code, err) in pairs {
        assert_eq!(code, err.code(), "{err:?}");
    }
    assert_eq!(FV_OK, 0);
}

#[test]
fn metric_constants_match_core() {
    assert_eq!(Metric::from_code(FV_METRIC_DOT).unwrap(), Metric::Dot);
    assert_eq!(Metric::from_code(FV_METRIC_COSINE).unwrap(), Metric::Cosine);
    assert_eq!(Metric::from_code(FV_METRIC_L2SQ).unwrap(), Metric::L2sq);
}

#[test]
fn misaligned_pointers_are_refused() {
    let buf = [0u32; 8];
    let misaligned = (buf.as_ptr() as *const u8).wrapping_add(1) as *const f32;
    // SAFETY: the function checks alignment before reading; nothing is dereferenced.
    let got = unsafe { fv_dot_f32(misaligned, misaligned, 4) };
    assert!(got.is_nan());
    assert!(last_error().contains("not aligned"), "{}", last_error());
}

#[test]
fn results_match_the_rust_api() {
    let a: Vec<f32> = (0..100).map(|i| (i as f32).sin()).collect();
    let b: Vec<f32> = (0..100).map(|i| (i as f32).cos()).collect();
    // SAFETY: both point to 100 floats.
    unsafe {
        assert_eq!(
            fv_dot_f32(a.as_ptr(), b.as_ptr(), 100),
            kernels::dot_f32(&a, &b).unwrap()
        );
        assert_eq!(
            fv_cosine_distance_f32(a.as_ptr(), b.as_ptr(), 100),
            kernels::cosine_distance_f32(&a, &b).unwrap()
        );
        assert_eq!(
            fv_l2sq_f32(a.as_ptr(), b.as_ptr(), 100),
            kernels::l2sq_f32(&a, &b).unwrap()
        );
    }
    // SAFETY: fv_isa_name returns a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(fv_isa_name()) }.to_str().unwrap();
    assert_eq!(name, kernels::active_isa().name());
}
