#!/usr/bin/env bash
# scripts/browser-check.sh - the browser's WebSocket API against our echo server.
#
#   scripts/browser-check.sh <ws-url>        # e.g. ws://127.0.0.1:9001/
#   scripts/browser-check.sh <wss-url>       # e.g. wss://127.0.0.1:9443/
#
# The echo server must already be running (for wss://, with --tls-cert and
# --tls-key; a self-signed certificate is accepted: Chromium runs with
# --ignore-certificate-errors and node's own GET skips verification). Installs what is missing first
# (Debian `chromium` with apt-get, playwright-core with `npm ci` into
# scripts/browser/node_modules), then:
#   - GET http(s)://<host:port>/ must answer 200 with an HTML page;
#   - Chromium opens that page, whose own WebSocket must open and echo;
#   - headless Chromium runs scripts/browser/test.html against <ws-url>: open,
#     text echo (multibyte UTF-8, empty), 1 MiB text, binary as ArrayBuffer and
#     as Blob, 10000 messages in order, subprotocol from ['chat','superchat'],
#     close(1000,'bye') and close(4001) echoed cleanly, and <ws-origin>/reject
#     refused (error, then close 1006, not clean).
# Prints "PASS name: detail" / "FAIL name: detail" per check, and last
# "N passed, N failed". Exit 0 if all passed, 1 otherwise, 2 on usage/setup error.
#
# Environment:
#   REJECT_URL          URL the server must refuse       [<ws-origin>/reject]
#   BROWSER_TIMEOUT_MS  time for all checks              [120000]; hard cap +30 s
#   STEP_TIMEOUT_MS     time for one check               [20000]
#   EXPECT_EXTENSION    what ws.extensions must contain, e.g. permessage-deflate [none]
#   CHROMIUM            browser binary  [/usr/lib/chromium/chromium, /usr/bin/chromium]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/browser
log() { echo "browser-check.sh: $*" >&2; }
die() { log "$*"; exit 2; }

[ $# = 1 ] || { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
WS_URL=$1
[[ $WS_URL =~ ^(wss?)://([^/?#]+) ]] || die "not a ws:// or wss:// URL: $WS_URL"
SCHEME=${BASH_REMATCH[1]}
HOSTPORT=${BASH_REMATCH[2]}
REJECT_URL=${REJECT_URL:-$SCHEME://$HOSTPORT/reject}
if [ "$SCHEME" = wss ]; then
  HTTP_URL=https://$HOSTPORT/
  # The test server's certificate is self-signed: node's GET of the page
  # does not verify it (Chromium ignores certificate errors likewise).
  export NODE_TLS_REJECT_UNAUTHORIZED=0
else
  HTTP_URL=http://$HOSTPORT/
fi
export BROWSER_TIMEOUT_MS=${BROWSER_TIMEOUT_MS:-120000}
export STEP_TIMEOUT_MS=${STEP_TIMEOUT_MS:-20000}

# ------------------------------------------------------------------ install
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if [ -z "${CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then
  log "installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q >&2 || die "apt-get update failed"
  as_root apt-get install -y -q --no-install-recommends chromium >&2 || die "apt-get install chromium failed"
fi
if [ -z "${CHROMIUM:-}" ]; then
  # The real binary; /usr/bin/chromium is a wrapper script around it.
  CHROMIUM=/usr/lib/chromium/chromium
  [ -x "$CHROMIUM" ] || CHROMIUM=/usr/bin/chromium
fi
[ -x "$CHROMIUM" ] || die "no browser at $CHROMIUM"
export CHROMIUM

STAMP=$(sha256sum <"$HERE/package-lock.json" | cut -c1-16)
if [ "$(cat "$HERE/node_modules/.rfc6455-stamp" 2>/dev/null)" != "$STAMP" ]; then
  log "installing playwright-core (npm ci in $HERE)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $HERE"
  echo "$STAMP" >"$HERE/node_modules/.rfc6455-stamp"
fi

# ------------------------------------------------------------------ run
WORK=$(mktemp -d /tmp/rfc6455-browser-check.XXXXXX)
OUT=$WORK/out.txt

# Chromium runs in a session of its own (playwright starts it detached), so
# after the runner is gone, stop whatever still uses our fresh profile dir.
reap() {
  local f pid pids=()
  for f in /proc/[0-9]*/cmdline; do
    if grep -qaF -- "--user-data-dir=$WORK/profile" "$f" 2>/dev/null; then
      pid=${f#/proc/}; pids+=("${pid%/cmdline}")
    fi
  done
  [ ${#pids[@]} = 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
  rm -rf "$WORK"
}
trap reap EXIT
trap 'exit 2' INT TERM HUP

RC=0
timeout -k 5 $((BROWSER_TIMEOUT_MS / 1000 + 30)) \
  node "$HERE/run.mjs" "$WS_URL" "$REJECT_URL" "$HTTP_URL" "$WORK/profile" </dev/null 2>"$WORK/err.txt" |
  tee "$OUT" || RC=$?

# The runner prints the summary itself; if it died or was killed, say so and
# print one from what it did report.
if ! tail -n 1 "$OUT" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
  [ $RC = 124 ] && echo "FAIL runner: killed after $((BROWSER_TIMEOUT_MS / 1000 + 30)) s" ||
    echo "FAIL runner: exit status $RC; $(tail -n 3 "$WORK/err.txt" | tr '\n' ' ')"
  echo "$(grep -c '^PASS ' "$OUT") passed, $(( $(grep -c '^FAIL ' "$OUT") + 1 )) failed"
  exit 1
fi
[ $RC = 0 ] || exit 1
