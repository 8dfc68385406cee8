#!/usr/bin/env bash
# Interop with python-websockets, both ways, over 127.0.0.1:
#   - its client against our examples/echo (scripts/interop/peer.py client);
#   - our blocking client (tests/interop_peer.rs) against its echo server.
#
#   scripts/interop.sh PORT_BASE      # uses PORT_BASE and PORT_BASE+1
#
# Needs the release examples built (cargo build --release --examples).
# Installs python-websockets (scripts/interop/requirements.txt) into a
# virtualenv under ~/.cache/rfc6455/ on first use.
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

echo "== python-websockets client -> rfc6455 echo server"
./target/release/examples/echo "127.0.0.1:$BASE" >/tmp/rfc6455-interop-echo.log 2>&1 &
PIDS+=($!)
wait_port "$BASE"
timeout 150 "$PY" scripts/interop/peer.py client "ws://127.0.0.1:$BASE/"

echo "== rfc6455 client -> python-websockets echo server"
"$PY" scripts/interop/peer.py server "$((BASE + 1))" >/tmp/rfc6455-interop-py.log 2>&1 &
PIDS+=($!)
wait_port "$((BASE + 1))"
RFC6455_PEER_URL="ws://127.0.0.1:$((BASE + 1))/" timeout 150 \
  cargo test --release --test interop_peer -- --ignored 2>&1 | grep -E '^test |test result'
test "${PIPESTATUS[0]}" = 0
