//! The one module allowed `unsafe`, and the hot loops that compile to SIMD:
//! [`mask`] (the masking loops, and their AVX2 builds chosen at run time),
//! [`text`] (UTF-8 checks that wrap checked bytes as a `str` without a
//! second check) and [`borrow`] (a lent text checked once). A leaf: it
//! imports nothing of the crate, so the safe front ends (`crate::mask`,
//! `crate::utf8`) and the connection call down into it, never the reverse.
//!
//! Each `unsafe` block says why it is sound (`SAFETY:`), and each kernel is
//! tested against a plain reference (the byte-wise mask,
//! `std::str::from_utf8`) at every length and alignment, under Miri too
//! (`scripts/miri.sh`). Why each kernel pays is measured by the rows of
//! `bench/benches/decode.rs` and `bench/benches/encode.rs` named beside it.
#![allow(unsafe_code)]

pub(crate) mod borrow;
pub(crate) mod mask;
pub(crate) mod text;

/// Whether this CPU runs the AVX2 kernels (the check is cached by std).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}
