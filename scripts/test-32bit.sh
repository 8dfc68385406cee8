#!/usr/bin/env bash
# The length arithmetic on a 32-bit target: the core's unit tests and the
# limit and memory tests under i686-unknown-linux-gnu, where a frame length
# from the wire (up to 2^63) no longer fits a usize.
#
#   scripts/test-32bit.sh
#
# Installs what it needs on first use: the target's standard library
# (rustup) and Debian's gcc-multilib to link it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET=i686-unknown-linux-gnu
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi
if ! [ -e /usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a ] && ! dpkg -s gcc-multilib >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends gcc-multilib
fi
cargo test --target "$TARGET" --lib --test limits --test memory --test frames
