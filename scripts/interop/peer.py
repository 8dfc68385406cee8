"""A python-websockets peer for interop checks against rfc6455.

    peer.py server PORT [--no-compression]   echo server on 127.0.0.1:PORT
    peer.py client URL  [--no-compression]   run the checks against URL

The server echoes every message and the peer's close code and reason.
The client checks, against an echo server: text with multibyte UTF-8, an
empty text, binary, a 1 MiB text, a fragmented message, a ping answered
by a pong, and a close with code and reason echoed. It prints one line
per check and then "N passed, N failed"; its exit status is 0 only if all
passed. python-websockets offers or accepts permessage-deflate unless
--no-compression is given.
"""

import hashlib
import os
import sys
import threading

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.server import serve


def echo(ws):
    try:
        for message in ws:
            ws.send(message)
    except ConnectionClosed:
        pass


def run_server(port, compression):
    with serve(echo, "127.0.0.1", port, compression=compression, max_size=16 << 20) as server:
        print(f"python-websockets echo server on ws://127.0.0.1:{port}/", flush=True)
        server.serve_forever()


def run_client(url, compression):
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    with connect(url, compression=compression, max_size=16 << 20, open_timeout=10, close_timeout=10) as ws:
        check("open", True, f"extensions {[e.name for e in ws.protocol.extensions]}")
        for name, message in [
            ("text", "héllo wörld €𝄞"),
            ("empty text", ""),
            ("binary", bytes(range(256)) * 4),
        ]:
            ws.send(message)
            got = ws.recv(timeout=10)
            check(name, got == message and type(got) is type(message))
        big = "".join(chr(0x41 + i % 26) for i in range(1 << 20))
        ws.send(big)
        got = ws.recv(timeout=30)
        check("1 MiB text", got == big, hashlib.sha1(got.encode()).hexdigest()[:12])
        fragments = ["frag", "ment", "ed ✓"]
        ws.send(iter(fragments))
        got = ws.recv(timeout=10)
        check("fragmented", got == "".join(fragments), repr(got))
        pong = ws.ping(b"are you there")
        check("ping answered", pong.wait(10))
        ws.close(4001, "bye now")
    closed = ws.protocol.close_rcvd
    check(
        "close echoed",
        closed is not None and closed.code == 4001 and closed.reason == "bye now",
        f"{closed}",
    )
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed", flush=True)
    return 0 if all(results) else 1


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("server", "client"):
        print(__doc__, file=sys.stderr)
        return 2
    compression = None if "--no-compression" in sys.argv else "deflate"
    if sys.argv[1] == "server":
        run_server(int(sys.argv[2]), compression)
        return 0
    # Bound the whole run: a hung peer must not hang CI.
    timer = threading.Timer(120, lambda: (print("timed out", flush=True), os._exit(1)))
    timer.daemon = True
    timer.start()
    return run_client(sys.argv[2], compression)


if __name__ == "__main__":
    sys.exit(main())
