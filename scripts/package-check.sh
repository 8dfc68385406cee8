#!/usr/bin/env bash
# What `cargo package` would publish: the docs build without warnings,
# the package builds on its own, and every repository file the README and
# ARCHITECTURE.md name or link is in it (a reader of the crate on crates.io
# must find them).
#
#   scripts/package-check.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
cargo package --allow-dirty --quiet
list=$(cargo package --allow-dirty --list)
missing=0
docs="README.md ARCHITECTURE.md"
# Paths the docs write in backquotes, e.g. `tests/limits.rs`, and the
# targets of their relative links, e.g. [ARCHITECTURE.md](ARCHITECTURE.md).
paths=$(
  grep -ohE '`(src|tests|examples|benches|bench|scripts|fuzz)/[A-Za-z0-9_./-]+`' $docs | tr -d '`'
  grep -ohE '\]\([^):]+\)' $docs | sed -E 's/^\]\(([^#)]*).*$/\1/' | grep . || true
)
for path in $(sort -u <<<"$paths"); do
  # An example or a folder may be named without its extension or files.
  grep -qxF -e "$path" -e "$path.rs" <<<"$list" && continue
  grep -q "^${path%/}/" <<<"$list" && continue
  [ -e "$path" ] || { echo "the docs name $path, which does not exist" >&2; missing=1; continue; }
  echo "the docs name $path, which the package leaves out" >&2
  missing=1
done
[ $missing = 0 ] && echo "package: $(wc -l <<<"$list") files; every file $docs name is in it"
exit $missing
