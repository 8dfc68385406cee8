#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/ (committed).

Run from anywhere: python3 fuzz/gen_seeds.py. Deterministic: rerunning it
rewrites the same files. Each target's input layout is described at the top
of its fuzz_targets/<target>.rs.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload=b"", fin=True, mask=None, rsv=0, length_form=None):
    """One frame; length_form forces 16 or 64 (non-minimal if small)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if length_form == 64 or (length_form is None and n > 0xFFFF):
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    elif length_form == 16 or (length_form is None and n >= 126):
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | n])
    if mask:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


def streams(mask):
    """Frame streams as one role receives them (mask: server receives)."""
    m = mask
    return {
        "hello": frame(1, b"Hello", mask=m),
        "binary_16bit": frame(2, bytes(range(256)) * 1, mask=m),
        "binary_64bit_nonminimal": frame(2, b"abcde", mask=m, length_form=64),
        "binary_16bit_nonminimal": frame(2, b"abc", mask=m, length_form=16),
        "fragmented_text": frame(1, b"Hel", fin=False, mask=m) + frame(0, b"lo", mask=m),
        "fragmented_utf8_split": frame(1, "h€".encode()[:2], fin=False, mask=m)
        + frame(0, "h€".encode()[2:] + "😀".encode()[:1], fin=False, mask=m)
        + frame(0, "😀".encode()[1:], mask=m),
        "ping_in_fragments": frame(2, b"ab", fin=False, mask=m)
        + frame(9, b"ping", mask=m)
        + frame(0, b"cd", mask=m),
        "ping_pong": frame(9, b"Hello", mask=m) + frame(10, b"Hello", mask=m),
        "close_normal": frame(1, b"bye", mask=m) + frame(8, close_payload(1000, b"done"), mask=m),
        "close_empty": frame(8, b"", mask=m),
        "invalid_utf8": frame(1, b"ok\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80", mask=m),
        "reserved_bits": frame(1, b"x", mask=m, rsv=4),
        # A 1 MiB frame declared, a few bytes sent: refused at the header.
        "big_declared": bytes([0x82, (0x80 if m else 0) | 127]) + struct.pack(">Q", 1 << 20) + (m or b"") + b"xyz",
    }


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


CHROME = (
    b"GET /chat?room=1 HTTP/1.1\r\n"
    b"Host: localhost:9001\r\n"
    b"Connection: Upgrade\r\n"
    b"Pragma: no-cache\r\n"
    b"Cache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n"
    b"Upgrade: websocket\r\n"
    b"Origin: http://localhost:8080\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"\r\n"
)
RFC_REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE_101 = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Accept: $ACCEPT\r\n"
)


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)

    # frame_decode: raw bytes, fed to both roles.
    write("frame_decode", "rfc_masked_hello", bytes.fromhex("818537fa213d7f9f4d5158"))
    write("frame_decode", "rfc_unmasked_hello", bytes.fromhex("810548656c6c6f"))
    for role, mask in (("server", MASK), ("client", None)):
        for name, data in streams(mask).items():
            if name in ("hello",):
                continue
            write("frame_decode", f"{role}_{name}", data)

    # connection_split: flags, n, sizes..., data.
    for role, flag, mask in (("server", 0, MASK), ("client", 1, None)):
        s = streams(mask)
        write("connection_split", f"{role}_hello_bytewise", bytes([flag, 0, 0]) + s["hello"])
        write("connection_split", f"{role}_fragments_3_7", bytes([flag, 1, 2, 6]) + s["fragmented_utf8_split"])
        write("connection_split", f"{role}_ping_fragments_zero_copy", bytes([flag | 8, 2, 4, 1, 13]) + s["ping_in_fragments"])
        write("connection_split", f"{role}_close", bytes([flag, 0, 5]) + s["close_normal"])
        write("connection_split", f"{role}_16bit_small_config", bytes([flag | 2, 1, 40, 0xF0]) + s["binary_16bit"])
        write("connection_split", f"{role}_invalid_utf8", bytes([flag, 0, 3]) + s["invalid_utf8"])
    big = frame(2, bytes(i % 251 for i in range(5000)), mask=MASK)
    write("connection_split", "server_5000_byte_frame_1k_pieces", bytes([2, 0, 0xF0]) + big)

    # connection_deflate: flags, window bits, level/n, sizes..., ops (see
    # the target's doc comment for each op's arguments).
    chat = b'{"user":"ada","text":"hello there, hello again"}'
    def op_compressed(text, k, payload, cuts=b"", ping=0, bytewise=False, long=False):
        o = (1 if long else 0) | (0x10 if text else 0) | (0x20 if bytewise else 0) | ((k - 1) << 6)
        return bytes([o, len(payload)]) + payload + cuts + bytes([ping])
    def header(client, snct, cnct, server_bits, client_bits, limits=0, level=6, sizes=b"\xff", extra=0):
        flags = (1 if client else 0) | (2 if snct else 0) | (4 if cnct else 0) | (limits << 4) | extra
        return bytes([flags, server_bits | (client_bits << 4), level | ((len(sizes) - 1) << 4)]) + sizes
    hello = op_compressed(True, 1, chat)
    for role, client in (("server", False), ("client", True)):
        write("connection_deflate", f"{role}_takeover_15", header(client, False, False, 8, 12) + hello + hello + bytes([0x29]))
        write("connection_deflate", f"{role}_no_takeover_9_8", header(client, True, True, 1, 0, sizes=b"\x00\x05") + hello + hello)
        write("connection_deflate", f"{role}_fragments_ping_bytewise", header(client, False, True, 4, 7, limits=3, extra=64)
              + op_compressed(True, 3, chat * 2, cuts=b"\x40\xa0", ping=1, bytewise=True) + hello)
        # A zip bomb: 64 KiB of zeroes in a few hundred bytes.
        write("connection_deflate", f"{role}_bomb", header(client, False, False, 7, 7) + hello + bytes([0x02, 63]))
    write("connection_deflate", "server_plain_and_compressed", header(False, False, False, 2, 2, limits=1, level=0)
          + bytes([0x13, len(chat)]) + chat + b"\x00" + hello + bytes([0x04, 3]) + b"abc")
    write("connection_deflate", "server_rsv1_ping", header(False, False, False, 8, 8) + hello + bytes([0x24, 2]) + b"hi")
    write("connection_deflate", "client_rsv1_continuation", header(True, False, False, 8, 8)
          + bytes([0x25 | 0x40, len(chat)]) + chat + b"\x80\x01\x00")
    write("connection_deflate", "server_corrupt_then_garbage", header(False, False, False, 8, 8)
          + hello + bytes([0x06, 20]) + chat[:20] + b"\x00\x00\x05" + bytes([0x08, 0xc1, 4]) + b"\x01\x02\x03\x04")

    # server_handshake: piece size, request bytes.
    write("server_handshake", "chrome", bytes([255]) + CHROME)
    write("server_handshake", "chrome_bytewise", bytes([0]) + CHROME)
    write("server_handshake", "rfc_then_frames", bytes([16]) + RFC_REQUEST + streams(MASK)["hello"] + streams(MASK)["close_normal"])
    write("server_handshake", "http10", bytes([255]) + RFC_REQUEST.replace(b"HTTP/1.1", b"HTTP/1.0"))
    write("server_handshake", "version_8", bytes([255]) + RFC_REQUEST.replace(b"Version: 13", b"Version: 8"))
    write("server_handshake", "no_key", bytes([255]) + RFC_REQUEST.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""))
    write("server_handshake", "plain_get", bytes([255]) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    # Found by this target: a second, non-UTF-8 key was not counted as a
    # duplicate (tests/fuzz_regressions.rs).
    write("server_handshake", "duplicate_key_non_utf8", bytes([255]) + RFC_REQUEST.replace(
        b"Sec-WebSocket-Key:", b"Sec-WebSocket-Key: G\xcbj=\r\nSec-WebSocket-Key:"))

    # client_handshake: piece size, response bytes ($ACCEPT, $KEY replaced).
    write("client_handshake", "101", bytes([255]) + RESPONSE_101 + b"\r\n")
    write("client_handshake", "101_bytewise_then_frames", bytes([0]) + RESPONSE_101 + b"\r\n" + streams(None)["fragmented_text"] + streams(None)["ping_pong"])
    write("client_handshake", "101_protocol_then_close", bytes([32]) + RESPONSE_101 + b"Sec-WebSocket-Protocol: chat\r\n\r\n" + streams(None)["close_normal"])
    write("client_handshake", "101_wrong_protocol", bytes([255]) + RESPONSE_101 + b"Sec-WebSocket-Protocol: superchat\r\n\r\n")
    write("client_handshake", "101_extension", bytes([255]) + RESPONSE_101 + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    write("client_handshake", "101_wrong_accept", bytes([255]) + RESPONSE_101.replace(b"$ACCEPT", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") + b"\r\n")
    write("client_handshake", "403", bytes([255]) + b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    write("client_handshake", "302", bytes([255]) + b"HTTP/1.1 302 Found\r\nLocation: ws://other/\r\n\r\n")

    for t in sorted(os.listdir(SEEDS)):
        print(t, len(os.listdir(os.path.join(SEEDS, t))), "seeds")


if __name__ == "__main__":
    main()
