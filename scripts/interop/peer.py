"""A python-websockets peer for interop checks against rfc6455.

    peer.py server PORT [--no-compression]    echo server on 127.0.0.1:PORT
    peer.py client URL  [--no-compression | --deflate COMBO]
                                              run the checks against URL
    peer.py combos                            list the COMBOs

The server echoes every message and the peer's close code and reason. A
request for /deflate/COMBO is negotiated with the server policy COMBO
(below); a text message "__negotiated__" is answered, not echoed, with
what the server agreed for the connection (see `describe`).

The client checks, against an echo server: the permessage-deflate
parameters agreed (with --deflate, against what rfc6455's default server
policy must answer to the offer COMBO), text with multibyte UTF-8, an
empty text, binary, a 1 MiB text, 200 messages in a row, a fragmented
message, a ping answered by a pong, and a close with code and reason
echoed. It prints one line per check and then "N passed, N failed"; its
exit status is 0 only if all passed. python-websockets offers or accepts
permessage-deflate unless --no-compression is given.

A COMBO is "default" (python-websockets' own offer or policy), "off" (no
compression), or parameters joined by "+": snct
(server_no_context_takeover), cnct (client_no_context_takeover), sN
(server_max_window_bits=N), cN (client_max_window_bits=N) and c (a bare
client_max_window_bits, in an offer). python-websockets refuses 8-bit
windows ("use 9"), so N is 9 to 15.
"""

import hashlib
import os
import sys
import threading

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.server import serve

# Each parameter and both context-takeover modes, every window from 9 to
# 15 on each side, a bare client_max_window_bits, no compression.
COMBOS = [
    "default",
    "off",
    "snct",
    "cnct",
    "snct+cnct",
    "s9",
    "s10+c9",
    "s11+c12",
    "s12+c",
    "s13+c14",
    "s14+c13",
    "s15+c15",
    "c",
    "c10",
    "c11",
    "snct+cnct+s9+c9",
    "snct+s15+c11",
    "cnct+s13+c",
]


def parse_combo(combo):
    """(snct, cnct, server_bits, client_bits): client_bits is True when bare."""
    snct = cnct = False
    server_bits = client_bits = None
    for part in combo.split("+"):
        if part == "snct":
            snct = True
        elif part == "cnct":
            cnct = True
        elif part == "c":
            client_bits = True
        elif part[0] in "sc" and part[1:].isdigit():
            bits = int(part[1:])
            if part[0] == "s":
                server_bits = bits
            else:
                client_bits = bits
        else:
            raise ValueError(f"bad combo {combo!r}")
    return snct, cnct, server_bits, client_bits


def client_extensions(combo):
    if combo == "default":
        return None  # python-websockets' own offer (compression="deflate")
    snct, cnct, server_bits, client_bits = parse_combo(combo)
    return [
        ClientPerMessageDeflateFactory(
            server_no_context_takeover=snct,
            client_no_context_takeover=cnct,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
            compress_settings={"memLevel": 5},
        )
    ]


def server_extensions(combo):
    if combo == "off":
        return []
    if combo == "default":
        return [
            ServerPerMessageDeflateFactory(
                server_max_window_bits=12,
                client_max_window_bits=12,
                compress_settings={"memLevel": 5},
            )
        ]
    snct, cnct, server_bits, client_bits = parse_combo(combo)
    return [
        ServerPerMessageDeflateFactory(
            server_no_context_takeover=snct,
            client_no_context_takeover=cnct,
            server_max_window_bits=server_bits,
            client_max_window_bits=None if client_bits is True else client_bits,
            compress_settings={"memLevel": 5},
        )
    ]


def describe(extensions, server):
    """What a connection agreed, in the server's terms:
    "snct=0 cnct=1 server_bits=12 client_bits=15", or "none"."""
    if not extensions:
        return "none"
    (ext,) = extensions
    assert ext.name == "permessage-deflate", ext.name
    if server:
        values = (
            ext.local_no_context_takeover,
            ext.remote_no_context_takeover,
            ext.local_max_window_bits,
            ext.remote_max_window_bits,
        )
    else:
        values = (
            ext.remote_no_context_takeover,
            ext.local_no_context_takeover,
            ext.remote_max_window_bits,
            ext.local_max_window_bits,
        )
    snct, cnct, server_bits, client_bits = values
    return f"snct={int(snct)} cnct={int(cnct)} server_bits={server_bits} client_bits={client_bits}"


def expected_from_rfc6455_server(combo):
    """What rfc6455's default server policy (DeflateConfig::default: server
    window at most 12 bits, nothing asked of clients) agrees to the offer
    COMBO: the offer's flags; the server window it asked for, capped at 12,
    else 15 (our server then compresses with 12, unannounced); the client
    window it offered a value for, else 15."""
    if combo == "off":
        return "none"
    if combo == "default":
        return "snct=0 cnct=0 server_bits=15 client_bits=15"
    snct, cnct, server_bits, client_bits = parse_combo(combo)
    server_bits = min(server_bits, 12) if server_bits else 15
    client_bits = client_bits if client_bits not in (None, True) else 15
    return f"snct={int(snct)} cnct={int(cnct)} server_bits={server_bits} client_bits={client_bits}"


def echo(ws):
    try:
        for message in ws:
            if message == "__negotiated__":
                ws.send(describe(ws.protocol.extensions, server=True))
            else:
                ws.send(message)
    except ConnectionClosed:
        pass


def choose_policy(connection, request):
    """/deflate/COMBO: negotiate with the server policy COMBO."""
    prefix = "/deflate/"
    if request.path.startswith(prefix):
        connection.protocol.available_extensions = server_extensions(request.path[len(prefix):])
    return None


def run_server(port, compression):
    with serve(
        echo,
        "127.0.0.1",
        port,
        compression=compression,
        max_size=16 << 20,
        process_request=choose_policy,
    ) as server:
        print(f"python-websockets echo server on ws://127.0.0.1:{port}/", flush=True)
        server.serve_forever()


def run_client(url, compression, combo):
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    extensions = None
    if combo is not None:
        compression = None if combo == "off" else "deflate"
        extensions = None if combo == "off" else client_extensions(combo)
    with connect(
        url,
        compression=compression,
        extensions=extensions,
        max_size=16 << 20,
        open_timeout=10,
        close_timeout=10,
    ) as ws:
        check("open", True, f"extensions {[e.name for e in ws.protocol.extensions]}")
        if combo is not None:
            agreed = describe(ws.protocol.extensions, server=False)
            expected = expected_from_rfc6455_server(combo)
            check(f"negotiated {combo}", agreed == expected, f"{agreed} (expected {expected})")
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
        many = [f"message {i} " * (i % 7) for i in range(200)]
        for m in many:
            ws.send(m)
        got = [ws.recv(timeout=10) for _ in many]
        check("200 messages in order", got == many)
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
    if sys.argv[1:] == ["combos"]:
        print(" ".join(COMBOS))
        return 0
    if len(sys.argv) < 3 or sys.argv[1] not in ("server", "client"):
        print(__doc__, file=sys.stderr)
        return 2
    compression = None if "--no-compression" in sys.argv else "deflate"
    combo = None
    if "--deflate" in sys.argv:
        combo = sys.argv[sys.argv.index("--deflate") + 1]
    if sys.argv[1] == "server":
        run_server(int(sys.argv[2]), compression)
        return 0
    # Bound the whole run: a hung peer must not hang CI.
    timer = threading.Timer(120, lambda: (print("timed out", flush=True), os._exit(1)))
    timer.daemon = True
    timer.start()
    return run_client(sys.argv[2], compression, combo)


if __name__ == "__main__":
    sys.exit(main())
