#!/usr/bin/env bash
# What `cargo package` would publish: the docs build without warnings,
# the package builds on its own, and every repository file the README
# names is in it (a reader of the crate on crates.io must find them).
#
#   scripts/package-check.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
cargo package --allow-dirty --quiet
list=$(cargo package --allow-dirty --list)
missing=0
# Paths the README writes in backquotes, e.g. `tests/limits.rs`.
for path in $(grep -oE '`(src|tests|examples|benches|bench|scripts|fuzz)/[A-Za-z0-9_./-]+`' README.md | tr -d '`' | sort -u); do
  # An example or a folder may be named without its extension or files.
  grep -qxF -e "$path" -e "$path.rs" <<<"$list" && continue
  grep -q "^${path%/}/" <<<"$list" && continue
  [ -e "$path" ] || { echo "README names $path, which does not exist" >&2; missing=1; continue; }
  echo "README names $path, which the package leaves out" >&2
  missing=1
done
[ $missing = 0 ] && echo "package: $(wc -l <<<"$list") files; every file the README names is in it"
exit $missing
