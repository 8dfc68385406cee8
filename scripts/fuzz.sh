#!/usr/bin/env bash
# Coverage-guided fuzzing of the sans-IO core with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; the targets default to all five
# (frame_decode, connection_split, connection_deflate, server_handshake,
# client_handshake; see
# fuzz/fuzz_targets/*.rs for the invariants each asserts). Runs on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets it take the nightly-only
# sanitizer flags), one libFuzzer process per target, one after another.
#
# The seeds in fuzz/seeds/<target>/ are copied into fuzz/corpus/<target>/
# (gitignored; it keeps growing across runs). A crash or invariant
# violation lands in fuzz/artifacts/<target>/; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# and minimise it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> fuzz/artifacts/<target>/<file>
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address. The library's only unsafe
#                   (src/kernels.rs) wraps safe code compiled for AVX2 and
#                   a str over validated bytes, and the targets assert logic
#                   invariants, so the default favours speed: here about 6x
#                   the executions of an AddressSanitizer build, which adds
#                   memory checks of unsafe code. (Switching rebuilds.)
#   FUZZ_JOBS       libFuzzer processes per target (default 1).
#
# Exit status: 0 when no target found anything, 1 otherwise.
set -uo pipefail

SECONDS_PER_TARGET=${1:-60}
shift || true
ALL_TARGETS=(frame_decode connection_split connection_deflate server_handshake client_handshake)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
SANITIZER=${FUZZ_SANITIZER:-none}
JOBS=${FUZZ_JOBS:-1}

if ! [[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
export RUSTC_BOOTSTRAP=1

max_len() {
    case $1 in
        connection_split) echo 24576 ;; # room for 16 KiB pieces and frames
        connection_deflate) echo 8192 ;; # ops build frames; a few KiB is dozens of them
        server_handshake | client_handshake) echo 8192 ;; # past the 4096-byte head limit
        *) echo 4096 ;;
    esac
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (cargo install --locked)"
    t0=$(date +%s)
    cargo install cargo-fuzz --locked || exit 1
    echo "   installed in $(($(date +%s) - t0)) s"
fi
echo "== $(cargo fuzz --version), $(rustc --version)"

echo "== building ${#TARGETS[@]} target(s) (sanitizer: $SANITIZER)"
t0=$(date +%s)
for t in "${TARGETS[@]}"; do
    cargo fuzz build -s "$SANITIZER" "$t" || exit 1
done
echo "   built in $(($(date +%s) - t0)) s"

LOGS=$ROOT/fuzz/target/fuzz-logs
mkdir -p "$LOGS"
failed=()
total_execs=0
summary=()
for t in "${TARGETS[@]}"; do
    seeds=$ROOT/fuzz/seeds/$t
    corpus=$ROOT/fuzz/corpus/$t
    artifacts=$ROOT/fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
    log=$LOGS/$t.log
    find "$artifacts" -type f | sort >"$log.before"
    echo "== $t: ${SECONDS_PER_TARGET} s, corpus $(find "$corpus" -type f | wc -l) files, log $log"
    t0=$(date +%s)
    jobs_args=()
    [ "$JOBS" -gt 1 ] && jobs_args=(-jobs="$JOBS" -workers="$JOBS")
    cargo fuzz run -s "$SANITIZER" "$t" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${jobs_args[@]}" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - t0))
    new_artifacts=$(find "$artifacts" -type f | sort | comm -13 "$log.before" -)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    peak=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{if ($2 > m) m = $2} END {print m + 0}')
    last=$(grep -E '#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    total_execs=$((total_execs + execs))
    status=ok
    if [ $rc -ne 0 ] || [ -n "$new_artifacts" ]; then
        status=FAILED
        failed+=("$t")
        echo "   FAILED (exit $rc); new artifacts:"
        sed 's/^/     /' <<<"$new_artifacts"
        grep -m1 -B2 -A12 -E "panicked|ERROR: (libFuzzer|AddressSanitizer)" "$log" | sed 's/^/   | /'
    fi
    line=$(printf '%-17s %-6s execs %9s  %6s exec/s  %4s s  cov %5s  ft %6s  corpus %-12s rss %s MB' \
        "$t" "$status" "$execs" "$rate" "$elapsed" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$peak")
    echo "   $line"
    summary+=("$line")
done

echo "== per target"
printf '   %s\n' "${summary[@]}"
if [ ${#failed[@]} -eq 0 ]; then
    echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, $total_execs execs, 0 failed"
    exit 0
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, $total_execs execs, ${#failed[@]} failed (${failed[*]})"
exit 1
