#!/usr/bin/env bash
# Builds the library, all features on, with the oldest Rust the manifest
# promises (`rust-version`), installing that toolchain on first use.
#
#   scripts/msrv.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MSRV=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)
[ -n "$MSRV" ] || { echo "msrv.sh: no rust-version in Cargo.toml" >&2; exit 2; }
if ! rustup toolchain list | grep -q "^$MSRV-"; then
  rustup toolchain install "$MSRV" --profile minimal
fi
CARGO_TARGET_DIR=target/msrv cargo +"$MSRV" build --lib --all-features
echo "msrv: the library builds with Rust $MSRV"
