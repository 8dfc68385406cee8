#!/usr/bin/env bash
# Interop with python-websockets, both ways, over 127.0.0.1, once per
# permessage-deflate parameter combination (scripts/interop/peer.py
# COMBOS: each parameter, both context-takeover modes, windows 9 to 15, a
# bare client_max_window_bits, python's defaults, no compression):
#   - its client, offering the combination, against our examples/echo
#     (whose DeflateConfig::default policy accepts every offer); peer.py
#     checks the parameters agreed and the echoes;
#   - our blocking client (tests/interop_peer.rs), configured for the
#     combination, against its echo server running it as its policy (at
#     /deflate/COMBO); the test checks compression_negotiated(), the
#     parameters the peer agreed and the echoes. Plus our client with
#     compression off against python's default policy ("ours-off").
#
#   scripts/interop.sh PORT_BASE      # uses PORT_BASE and PORT_BASE+1
#
# Needs the release examples built with the deflate feature (cargo build
# --release --features deflate --examples); builds the test itself.
# Installs python-websockets (scripts/interop/requirements.txt) into a
# virtualenv under ~/.cache/rfc6455/ on first use. Prints one line per
# run, the last `interop: N of M combinations passed`; exits 1 if any
# failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BASE=${1:?usage: scripts/interop.sh PORT_BASE}
VENV=${RFC6455_INTEROP_VENV:-$HOME/.cache/rfc6455/py-websockets}
STAMP=$(sha256sum <scripts/interop/requirements.txt | cut -c1-16)
if [ "$(cat "$VENV/.rfc6455-stamp" 2>/dev/null)" != "$STAMP" ]; then
  echo "interop.sh: installing python-websockets into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/interop/requirements.txt
  echo "$STAMP" >"$VENV/.rfc6455-stamp"
fi
PY=$VENV/bin/python
LOGS=$(mktemp -d /tmp/rfc6455-interop.XXXXXX)

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "interop.sh: nothing listens on port $1" >&2
  return 1
}

t0=$(date +%s)
read -r -a COMBOS <<<"$("$PY" scripts/interop/peer.py combos)"
cargo test --release --features deflate --test interop_peer --no-run 2>&1 | tail -n 1

passed=0
total=0
failed=()
# run NAME COMMAND...: one combination's run, its output kept in a log
# and shown when it fails.
run() {
  local name=$1 log
  shift
  log=$LOGS/$(tr -c 'A-Za-z0-9+_-' _ <<<"$name").log
  total=$((total + 1))
  local s=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name ($((SECONDS - s)) s)"
  else
    failed+=("$name")
    echo "FAIL $name; its output:"
    sed 's/^/   | /' "$log"
  fi
}

echo "== python-websockets client -> rfc6455 examples/echo (default policy)"
./target/release/examples/echo "127.0.0.1:$BASE" >"$LOGS/echo-server.log" 2>&1 &
PIDS+=($!)
wait_port "$BASE"
for combo in "${COMBOS[@]}"; do
  run "python client offers $combo -> our server" \
    timeout 60 "$PY" scripts/interop/peer.py client "ws://127.0.0.1:$BASE/" --deflate "$combo"
done

echo "== rfc6455 client -> python-websockets echo server (policy per combination)"
"$PY" scripts/interop/peer.py server "$((BASE + 1))" >"$LOGS/py-server.log" 2>&1 &
PIDS+=($!)
wait_port "$((BASE + 1))"
for combo in "${COMBOS[@]}" ours-off; do
  policy=$combo
  [ "$combo" = ours-off ] && policy=default
  run "our client ($combo) -> python server policy $policy" \
    env RFC6455_PEER_URL="ws://127.0.0.1:$((BASE + 1))/deflate/$policy" RFC6455_DEFLATE="$combo" \
    timeout 60 cargo test -q --release --features deflate --test interop_peer -- --ignored --nocapture
done

echo "interop: $passed of $total combinations passed in $(($(date +%s) - t0)) s (logs in $LOGS)"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'interop: FAILED %s\n' "${failed[@]}"
  exit 1
fi
