#!/usr/bin/env bash
# scripts/autobahn.sh - Autobahn|Testsuite (RFC 6455 conformance) for rfc6455.
#
#   scripts/autobahn.sh server <port> -- <cmd...>   # cmd: echo server on 127.0.0.1:<port>
#   scripts/autobahn.sh client <port> -- <cmd...>   # cmd: client for ws://127.0.0.1:<port>
#
# server: starts <cmd> in the background, waits until <port> listens, runs
#   `wstest -m fuzzingclient` against it, then stops <cmd>.
# client: starts `wstest -m fuzzingserver` on <port>, runs <cmd> to completion
#   (GET /getCaseCount, /runCase?case=N&agent=A for each N, /updateReports?agent=A).
#
# <cmd> runs as argv (use `sh -c '...'` for shell syntax) with AUTOBAHN_MODE,
# AUTOBAHN_PORT, AUTOBAHN_URL (ws://127.0.0.1:<port>) and AUTOBAHN_AGENT exported.
#
# Environment (defaults in brackets):
#   CASES            case patterns, comma-separated                   [*]
#   EXCLUDE          excluded case patterns ("" = none)                []
#   AGENT            agent name in the report                          [rfc6455]
#   OUTDIR           report directory                   [./autobahn-reports/<mode>]
#   TIMEOUT          seconds for the test run itself                   [1800]
#   STARTUP_TIMEOUT  seconds for a server to start listening           [120]
#   STRICT           1: NON-STRICT fails the run; 0: it is tolerated   [1]
#   AUTOBAHN_VENV    Python 2.7 virtualenv with wstest
#                                        [~/.cache/rfc6455/autobahn-py27]
#   PYTHON2          Python 2.7 interpreter  [python2.7 on PATH, else ~/.pyenv]
#   WSTEST_PLAIN     1: wstest's own UTF-8 validator, not the faster one of
#                    scripts/autobahn-wstest.py (same answers)          [0]
#
# Passing run: every case OK, except 7.1.6, 7.13.1 and 7.13.2, which may be
# INFORMATIONAL (wstest never grades them). The last line printed is
#   autobahn <mode>: N ok, N non-strict, N informational, N unimplemented, N failed of N cases
# Exit: 0 pass; 1 some case not passing or missing; 2 usage/setup error, timeout,
# SUT or wstest failure, or no report.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REQS=$HERE/autobahn-requirements-py27.txt
ACCEL=wsaccel==0.6.3   # optional C speed-ups for wstest; the run works without

log() { echo "autobahn.sh: $*" >&2; }
die() { log "$*"; exit 2; }
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 4 ] && [ "$3" = -- ] || usage
MODE=$1 PORT=$2
shift 3
case $MODE in server|client) ;; *) usage ;; esac
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "bad port: $PORT"

CASES=${CASES-*}
EXCLUDE=${EXCLUDE-}
AGENT=${AGENT:-rfc6455}
OUTDIR=${OUTDIR:-$PWD/autobahn-reports/$MODE}
TIMEOUT=${TIMEOUT:-1800}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-120}
STRICT=${STRICT:-1}
VENV=${AUTOBAHN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/rfc6455/autobahn-py27}
URL=ws://127.0.0.1:$PORT

# ------------------------------------------------------------------ install
find_python2() {
  local p
  for p in ${PYTHON2:-} python2.7 python2 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7*/bin/python2.7; do
    if "$p" -c 'import sys; assert sys.version_info[:2] == (2, 7)' >/dev/null 2>&1; then
      command -v "$p"; return 0
    fi
  done
  return 1
}

STAMP=$(sha256sum <"$REQS" | cut -c1-16)
venv_ok() {
  [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$STAMP" ] && [ -x "$VENV/bin/wstest" ]
}

install_venv() {
  local py2 boot ilog=$VENV.install.log
  py2=$(find_python2) || die "no Python 2.7 interpreter found (set PYTHON2); wstest runs only on Python 2.7"
  log "installing Autobahn|Testsuite into $VENV with $py2 (one-off, about a minute)"
  rm -rf "$VENV"
  : >"$ilog"
  # Python 2.7 has no `venv` module and current virtualenv cannot create 2.7
  # environments: use virtualenv 20.21.x (the last that can) from a Python 3 venv.
  boot=$(dirname "$VENV")/virtualenv-bootstrap
  if ! [ -x "$boot/bin/virtualenv" ]; then
    rm -rf "$boot"
    { python3 -m venv "$boot" && "$boot/bin/pip" install -q --disable-pip-version-check 'virtualenv==20.21.1'; } >>"$ilog" 2>&1 ||
      { tail -n 20 "$ilog" >&2; die "could not bootstrap virtualenv (log: $ilog)"; }
  fi
  "$boot/bin/virtualenv" --no-periodic-update --app-data "$boot/app-data" -p "$py2" "$VENV" >>"$ilog" 2>&1 ||
    { tail -n 20 "$ilog" >&2; die "virtualenv -p $py2 failed (log: $ilog)"; }
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore
  "$VENV/bin/pip" install -q --no-cache-dir -r "$REQS" >>"$ilog" 2>&1 &&
    "$VENV/bin/python" -c 'import autobahntestsuite.fuzzing' >>"$ilog" 2>&1 ||
    { tail -n 30 "$ilog" >&2; die "pip install -r $REQS failed (log: $ilog)"; }
  "$VENV/bin/pip" install -q --no-cache-dir "$ACCEL" >>"$ilog" 2>&1 ||
    log "optional $ACCEL did not build (log: $ilog); wstest will be slower"
  echo "$STAMP" >"$VENV/.stamp"
}

mkdir -p "$(dirname "$VENV")"
if ! venv_ok; then
  exec 9>"$VENV.lock"
  flock -w 900 9 || die "timed out waiting for $VENV.lock"
  venv_ok || install_venv
  exec 9>&-
fi
PY=$VENV/bin/python
# wstest with a faster UTF-8 validator of the same answers (see the script);
# WSTEST_PLAIN=1 runs the suite's own.
if [ "${WSTEST_PLAIN:-0}" = 1 ]; then WSTEST=("$VENV/bin/wstest"); else WSTEST=("$PY" "$HERE/autobahn-wstest.py"); fi

# ------------------------------------------------------------------ processes
BG=()   # process-group ids (setsid) of everything we start in the background
stop_group() {  # stop_group PGID: TERM, then KILL after 5 s
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
}
cleanup() { local g; for g in "${BG[@]}"; do stop_group "$g"; done; }
trap cleanup EXIT
trap 'log interrupted; exit 2' INT TERM HUP

start_bg() {  # start_bg LOG CMD...: run CMD in its own session; sets BG_PID
  setsid "${@:2}" </dev/null >"$1" 2>&1 &
  BG_PID=$!
  BG+=("$BG_PID")
}

listening() {  # something LISTENs on TCP $PORT (IPv4 or IPv6), without connecting
  awk -v p=":$(printf %04X "$PORT")" \
    '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

wait_listen() {  # wait_listen PID WHAT LOG
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  until listening; do
    if ! kill -0 "$1" 2>/dev/null; then
      tail -n 20 "$3" >&2; die "$2 exited before listening on port $PORT (log: $3)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$3" >&2; die "$2 not listening on port $PORT after ${STARTUP_TIMEOUT}s (log: $3)"
    fi
    sleep 0.2
  done
}

# update_reports: what a client does last, GET /updateReports?agent=AGENT over
# WebSocket; the fuzzingserver writes its reports before it sends a close frame.
update_reports() {
  timeout 120 "$PY" - "$PORT" "$AGENT" <<'EOF'
import base64, os, socket, sys
port, agent = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=100)
s.sendall(("GET /updateReports?agent=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (agent, port, base64.b64encode(os.urandom(16)).decode())).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit(1)
    buf += d
if b" 101 " not in buf.split(b"\r\n")[0]:
    sys.exit(1)
if not buf.split(b"\r\n\r\n", 1)[1]:
    s.recv(4096)                                 # wait for the server's close frame
s.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # masked close 1000
EOF
}

# ------------------------------------------------------------------ spec
listening && die "port $PORT is already in use"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
find "$OUTDIR" -maxdepth 1 -type f \( -name '*.json' -o -name '*.html' -o -name '*.log' -o -name '*.txt' \) -delete
SPEC=$OUTDIR/spec.json
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore

# Write the spec and list the cases it selects (to detect missing ones later).
"$PY" - "$MODE" "$URL" "$OUTDIR" "$AGENT" "$CASES" "$EXCLUDE" >"$OUTDIR/expected-cases.txt" <<'EOF' ||
import json, sys
from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, CaseBasename
from autobahntestsuite.caseset import CaseSet
mode, url, outdir, agent, cases, exclude = sys.argv[1:]
split = lambda s: [x.strip() for x in s.split(",") if x.strip()]
spec = {"outdir": outdir, "cases": split(cases), "exclude-cases": split(exclude),
        "exclude-agent-cases": {}}
if mode == "server":
    spec["servers"] = [{"agent": agent, "url": url}]
else:
    spec["url"] = url
with open(outdir + "/spec.json", "w") as f:
    json.dump(spec, f, indent=2, sort_keys=True)
for c in CaseSet("fuzzing", CaseBasename, Cases, CaseCategories, CaseSubCategories).parseSpecCases(spec):
    print(c)
EOF
  die "could not write $SPEC (bad CASES/EXCLUDE patterns?)"
NCASES=$(wc -l <"$OUTDIR/expected-cases.txt")
[ "$NCASES" -gt 0 ] || die "CASES='$CASES' EXCLUDE='$EXCLUDE' select no case"
log "$MODE mode: $NCASES cases on port $PORT, timeout ${TIMEOUT}s, reports in $OUTDIR"

# ------------------------------------------------------------------ run
export AUTOBAHN_MODE=$MODE AUTOBAHN_PORT=$PORT AUTOBAHN_URL=$URL AUTOBAHN_AGENT=$AGENT
RUN_RC=0 SUT_DIED=0
T0=$SECONDS
if [ "$MODE" = server ]; then
  start_bg "$OUTDIR/sut.log" "$@"; SUT=$BG_PID
  wait_listen "$SUT" "SUT server" "$OUTDIR/sut.log"
  timeout -k 10 "$TIMEOUT" "${WSTEST[@]}" -m fuzzingclient -s "$SPEC" \
    </dev/null >"$OUTDIR/wstest.log" 2>&1 || RUN_RC=$?
  kill -0 "$SUT" 2>/dev/null || SUT_DIED=1
  WHAT="wstest fuzzingclient" LOGF=$OUTDIR/wstest.log
else
  start_bg "$OUTDIR/wstest.log" "${WSTEST[@]}" -m fuzzingserver -u 0 -s "$SPEC"; WS=$BG_PID
  wait_listen "$WS" "wstest fuzzingserver" "$OUTDIR/wstest.log"
  timeout -k 10 "$TIMEOUT" "$@" </dev/null >"$OUTDIR/sut.log" 2>&1 || RUN_RC=$?
  WHAT="SUT client" LOGF=$OUTDIR/sut.log
  if ! [ -s "$OUTDIR/index.json" ] && kill -0 "$WS" 2>/dev/null; then
    log "the client left no report; asking the fuzzingserver for a partial one"
    update_reports || log "could not get a report from the fuzzingserver"
  fi
fi
WALL=$((SECONDS - T0))
cleanup; BG=()
if [ $SUT_DIED = 1 ]; then
  log "SUT server exited during the run; last lines of $OUTDIR/sut.log:"; tail -n 20 "$OUTDIR/sut.log" >&2
fi
if [ $RUN_RC = 124 ] || [ $RUN_RC = 137 ]; then
  log "TIMEOUT: $WHAT still running after ${TIMEOUT}s; last lines of $LOGF:"; tail -n 5 "$LOGF" >&2
elif [ $RUN_RC != 0 ]; then
  log "$WHAT exited with status $RUN_RC; last lines of $LOGF:"; tail -n 20 "$LOGF" >&2
fi

# ------------------------------------------------------------------ summary
SHOWN_EXCLUDE=$EXCLUDE
[ ${#EXCLUDE} -le 60 ] || SHOWN_EXCLUDE="${EXCLUDE:0:40}... ($(tr , '\n' <<<"$EXCLUDE" | grep -c .) patterns)"
echo "autobahn $MODE: ${WALL}s for $NCASES cases (CASES='$CASES' EXCLUDE='$SHOWN_EXCLUDE'), reports in $OUTDIR"
SUM_RC=0
STRICT=$STRICT "$PY" - "$MODE" "$OUTDIR" "$AGENT" <<'EOF' || SUM_RC=$?
from __future__ import print_function
import json, os, sys
mode, outdir, agent = sys.argv[1:]
strict = os.environ.get("STRICT", "1") != "0"
ALWAYS_INFO = {"7.1.6", "7.13.1", "7.13.2"}    # wstest only records these
key = lambda c: tuple(int(x) for x in c.split("."))
expected = sorted((l.strip() for l in open(outdir + "/expected-cases.txt") if l.strip()), key=key)
try:
    index = json.load(open(outdir + "/index.json"))
except (IOError, ValueError) as e:
    index = {}
    print("no usable report: %s" % e)
if agent not in index and len(index) == 1:   # a client may name itself
    print("note: report agent is %r, not %r" % (list(index)[0], agent))
    agent = list(index)[0]
results = index.get(agent, {})
if index and not results:
    print("agent %r not in report (agents: %s)" % (agent, ", ".join(sorted(index))))

def passing(c, b):
    return b == "OK" or (b == "NON-STRICT" and not strict) or (b == "INFORMATIONAL" and c in ALWAYS_INFO)

groups, bad, counts = {}, [], {}
for c in expected:
    b = results[c]["behavior"] if c in results else "MISSING"
    g = groups.setdefault(c.split(".")[0], {})
    g[b] = g.get(b, 0) + 1
    counts[b] = counts.get(b, 0) + 1
    if b != "OK":
        bad.append((c, b))
for g in sorted(groups, key=int):
    n = sum(groups[g].values())
    print("  %-5s %4d cases: %s" % (g + ".*", n, ", ".join("%d %s" % (v, k) for k, v in sorted(groups[g].items()))))
missing = [c for c, b in bad if b == "MISSING"]
bad = [(c, b) for c, b in bad if b != "MISSING"]
if bad:
    print("non-OK cases:")
for c, b in bad:
    r, detail = results.get(c, {}), ""
    try:
        detail = json.load(open(os.path.join(outdir, r["reportfile"]))).get("result", "")
    except Exception:
        pass
    print("  %-8s %-13s %-6s close=%s code=%s  %s" % (c, b, "" if passing(c, b) else "(fail)",
          r.get("behaviorClose"), r.get("remoteCloseCode"), " ".join(str(detail).split())[:160]))
notes = ["%s %s" % (c, results[c].get("behaviorClose")) for c in expected if c in results
         and results[c]["behavior"] == "OK" and results[c].get("behaviorClose") in ("FAILED", "WRONG CODE", "UNCLEAN")]
if notes:
    print("closing-behavior notes on OK cases (not graded): " + ", ".join(notes))
if missing:
    print("missing from the report (%d): %s%s" % (len(missing), ", ".join(missing[:20]), " ..." if len(missing) > 20 else ""))
print("autobahn %s: %d ok, %d non-strict, %d informational, %d unimplemented, %d failed of %d cases" % (
    mode, counts.get("OK", 0), counts.get("NON-STRICT", 0), counts.get("INFORMATIONAL", 0),
    counts.get("UNIMPLEMENTED", 0), counts.get("FAILED", 0), len(expected)))
sys.exit(0 if not missing and all(passing(c, b) for c, b in bad) else 1)
EOF
[ $RUN_RC = 0 ] && [ $SUT_DIED = 0 ] || exit 2
exit $SUM_RC
