#!/usr/bin/env bash
# Runs the tests of src/kernels/, the crate's only module that allows
# `unsafe`, under Miri, which reports undefined behaviour: out-of-bounds or
# unaligned access, and borrows used after they were invalidated. All of
# them under Stacked Borrows, and the test of `str_or_back` (which hands
# out a shared borrow from one branch and the exclusive one from the
# other) under Tree Borrows too.
#
#   scripts/miri.sh
#
# Installs a nightly toolchain with the miri component on first use
# (rustup; about a minute). Under Miri the kernel tests run on fewer
# lengths and alignments (see `cfg!(miri)` in the tests): it interprets
# every step, about a thousand times slower than native code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "== installing nightly with miri (rustup)"
    rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
cargo +nightly miri setup >/dev/null

echo "== Miri, Stacked Borrows"
cargo +nightly miri test --lib kernels::
echo "== Miri, Tree Borrows"
MIRIFLAGS="-Zmiri-tree-borrows" cargo +nightly miri test --lib kernels::borrow::tests::str_or_back

# Miri sees no AVX2 unless the build enables it, so the runs above check
# the fallbacks; this one checks the AVX2 kernels themselves. Only those
# whose tests do not reach simdutf8: Miri reports its AVX2 validator for a
# prefetch pointer computed past the end of the input (`add`, fixed with
# `wrapping_add` in rusticstuff/simdutf8#120, not yet released in 0.1.5).
echo "== Miri, Stacked Borrows, AVX2 enabled"
RUSTFLAGS="-C target-feature=+avx2" cargo +nightly miri test --lib -- \
    kernels::mask::tests::avx2_mask_kernels kernels::text::tests::high_bytes_span
