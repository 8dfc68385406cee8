//! Decoding: an in-memory buffer of back-to-back single-frame messages is
//! fed to a long-lived connection, and every message is handed out as a
//! user receives it (`Event::Message` with `Bytes`/`Utf8Bytes`; text is
//! UTF-8 validated). One iteration decodes the whole buffer.
//!
//! Groups `decode_{masked,unmasked}_{binary,text}`; masked frames go client
//! to server (decoded by a server), unmasked ones server to client. In each:
//!
//! - `rfc6455`: `receive(&whole_buffer)`, then `next_event()` until `None`.
//! - `rfc6455_borrowed`: the same with `next_event_ref()`, which lends each
//!   payload (`&[u8]`/`&str`) from the read buffer instead of handing over a
//!   `Bytes`: no reference count per message.
//! - `rfc6455_read_buf`: like a socket read loop: `read_buf()`, copy as much
//!   as it offers, `commit()`, drain events, repeat.
//! - `rfc6455_adapter_reads`: the read loop of `rfc6455::blocking`: reads of
//!   what `read_buf()` offers, and once 64 KiB or more of a frame is missing,
//!   `receive_with` + `read_to_end` for the rest (into a `Vec`, no zeroing;
//!   a server in 128 KiB pieces, each unmasked as it is handed over).
//! - `tungstenite`: `WebSocket::from_raw_socket` over an in-memory stream,
//!   `read()` once per message (it reads the stream in 128 KiB chunks).
//! - `rfc6455_decode_only`: the buffer is already inside the connection
//!   (untimed setup: a fresh connection and `receive`, right before, so the
//!   bytes are as hot in cache as after a read), so only decoding and handing
//!   out the messages is timed: with zero copy, an unmasked 64 KiB binary
//!   frame should cost about what a 16 B one does. The clock is read around
//!   every iteration here; `timer/per_iteration_overhead` measures what that
//!   adds (a thread-CPU-time read is a syscall), and `report.py` subtracts it.
//! - `memcpy`: `copy_from_slice` of the buffer into a preallocated `Vec`,
//!   the ceiling for anything that copies what it reads.
//! - masked groups only: `copy_unmask_avx2` (one-pass copy + XOR, the ceiling
//!   for a decoder that copies and unmasks), `unmask_in_place_avx2` (the
//!   fastest unmask kernel, no copy) and `apply_mask_in_place` (our kernel,
//!   `rfc6455::mask::apply_mask`, same work).
//! - text groups only: `utf8_std` and `utf8_simdutf8`, validating each
//!   payload once with `std::str::from_utf8` (what tungstenite uses) and
//!   with `simdutf8` (what we use; the SIMD floor).
//!
//! Throughput is wire bytes (headers included) per second; the parameter
//! names the payload size and the frames per iteration (`1024B_x4041`), so
//! per-frame time is the median divided by the frame count.
//!
//! Group `decode_header` times header parsing alone: `FrameHeader::decode`
//! and tungstenite's `FrameHeader::parse` over the same masked 16 B frames.
//!
//! `cargo bench -p rfc6455-bench --bench decode -- masked_binary/rfc6455` runs a subset.

mod common;

use std::hint::black_box;
use std::io::Read;

use common::{frame_count, mask_key, param, payload, wire, MemStream, SIZES};
use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use rfc6455::frame::FrameHeader;
use rfc6455::{Config, Connection, Event, EventRef, Role};
use tungstenite::protocol::frame::FrameHeader as TFrameHeader;
use tungstenite::protocol::{Role as TRole, WebSocket, WebSocketConfig};
use tungstenite::Message as TMessage;

fn our_config() -> Config {
    Config {
        max_frame_size: 64 << 20,
        max_message_size: 64 << 20,
        ..Config::default()
    }
}

fn their_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(64 << 20))
        .max_message_size(Some(64 << 20))
}

/// Drains every event; returns how many messages came out.
fn drain(conn: &mut Connection) -> usize {
    let mut n = 0;
    while let Some(event) = conn.next_event().expect("decode") {
        match event {
            Event::Message(m) => {
                black_box(m);
                n += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    n
}

fn decode_whole(conn: &mut Connection, wire: &[u8]) -> usize {
    conn.receive(wire);
    drain(conn)
}

fn decode_borrowed(conn: &mut Connection, wire: &[u8]) -> usize {
    conn.receive(wire);
    let mut n = 0;
    while let Some(event) = conn.next_event_ref().expect("decode") {
        match event {
            EventRef::Message(m) => {
                black_box(m);
                n += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    n
}

fn decode_read_buf(conn: &mut Connection, wire: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < wire.len() {
        let buf = conn.read_buf();
        let take = buf.len().min(wire.len() - pos);
        buf[..take].copy_from_slice(&wire[pos..pos + take]);
        conn.commit(take);
        pos += take;
        n += drain(conn);
    }
    n
}

/// From this many missing bytes of a frame on, the blocking adapter reads
/// the rest with `receive_with` + `read_to_end`, a server `LARGE_PIECE` at
/// a time (both as in `src/blocking/socket.rs`).
const LARGE_READ: usize = 64 * 1024;
const LARGE_PIECE: usize = 128 * 1024;

/// The read loop of `rfc6455::blocking` over an in-memory "socket": small
/// reads into `read_buf()`, the rest of a large frame with `receive_with`
/// (no zeroing, and the payload stays in that allocation).
fn decode_adapter_reads(conn: &mut Connection, wire: &[u8]) -> usize {
    let mut socket = wire;
    let mut n = 0;
    while !socket.is_empty() {
        let rest = conn.frame_remaining();
        if rest < LARGE_READ {
            let got = socket.read(conn.read_buf()).expect("read");
            conn.commit(got);
        } else {
            // A server takes the rest in pieces, each unmasked as it is
            // handed over; a client takes it whole.
            let piece = match conn.role() {
                Role::Server => LARGE_PIECE,
                Role::Client => rest,
            };
            let mut rest = rest;
            while rest > 0 {
                let want = rest.min(piece);
                rest -= conn
                    .receive_with(|tail| tail.read_from(&mut socket, want))
                    .expect("read_to_end");
            }
        }
        n += drain(conn);
    }
    n
}

fn decode_tungstenite(ws: &mut WebSocket<MemStream>, frames: usize) {
    ws.get_mut().input.set_position(0);
    for _ in 0..frames {
        black_box(ws.read().expect("tungstenite read"));
    }
}

/// Both decoders produce the expected messages from the buffer.
fn verify(role: Role, wire: &[u8], frames: usize, expect: &[u8], text: bool) {
    let mut conn = Connection::open(role, our_config());
    assert_eq!(decode_adapter_reads(&mut conn, wire), frames);
    let mut conn = Connection::open(role, our_config());
    conn.receive(wire);
    let mut n = 0;
    while let Some(event) = conn.next_event_ref().expect("decode") {
        let EventRef::Message(m) = event else {
            panic!("unexpected event")
        };
        assert_eq!(matches!(m, rfc6455::MessageRef::Text(_)), text);
        assert_eq!(m.as_bytes(), expect);
        n += 1;
    }
    assert_eq!(n, frames);
    for read_buf in [false, true] {
        let mut conn = Connection::open(role, our_config());
        if read_buf {
            let mut pos = 0;
            while pos < wire.len() {
                let buf = conn.read_buf();
                let take = buf.len().min(wire.len() - pos);
                buf[..take].copy_from_slice(&wire[pos..pos + take]);
                conn.commit(take);
                pos += take;
            }
        } else {
            conn.receive(wire);
        }
        let mut n = 0;
        while let Some(event) = conn.next_event().expect("decode") {
            let Event::Message(m) = event else {
                panic!("unexpected event")
            };
            assert_eq!(m.is_text(), text);
            assert_eq!(m.as_bytes(), expect);
            n += 1;
        }
        assert_eq!(n, frames);
    }

    let trole = match role {
        Role::Server => TRole::Server,
        Role::Client => TRole::Client,
    };
    let mut ws = WebSocket::from_raw_socket(
        MemStream::new(wire.to_vec(), 0),
        trole,
        Some(their_config()),
    );
    for _ in 0..frames {
        match ws.read().expect("tungstenite read") {
            TMessage::Text(t) if text => assert_eq!(t.as_bytes(), expect),
            TMessage::Binary(b) if !text => assert_eq!(&b[..], expect),
            other => panic!("unexpected tungstenite message {:?}", other.len()),
        }
    }
}

fn bench_group<M: Measurement>(c: &mut Criterion<M>, masked: bool, text: bool) {
    let name = format!(
        "decode_{}_{}",
        if masked { "masked" } else { "unmasked" },
        if text { "text" } else { "binary" }
    );
    let role = if masked { Role::Server } else { Role::Client };
    let trole = if masked { TRole::Server } else { TRole::Client };
    let mut group = c.benchmark_group(&name);
    for &size in &SIZES {
        let frames = frame_count(size);
        let body = payload(size, text);
        let wire = wire(&body, frames, text, masked);
        verify(role, &wire, frames, &body, text);
        let id = param(size, frames);
        group.throughput(Throughput::Bytes(wire.len() as u64));

        let mut conn = Connection::open(role, our_config());
        group.bench_function(BenchmarkId::new("rfc6455", &id), |b| {
            b.iter(|| assert_eq!(decode_whole(&mut conn, black_box(&wire)), frames))
        });

        let mut conn = Connection::open(role, our_config());
        group.bench_function(BenchmarkId::new("rfc6455_borrowed", &id), |b| {
            b.iter(|| assert_eq!(decode_borrowed(&mut conn, black_box(&wire)), frames))
        });

        let mut conn = Connection::open(role, our_config());
        group.bench_function(BenchmarkId::new("rfc6455_read_buf", &id), |b| {
            b.iter(|| assert_eq!(decode_read_buf(&mut conn, black_box(&wire)), frames))
        });

        let mut conn = Connection::open(role, our_config());
        group.bench_function(BenchmarkId::new("rfc6455_adapter_reads", &id), |b| {
            b.iter(|| assert_eq!(decode_adapter_reads(&mut conn, black_box(&wire)), frames))
        });

        let mut ws = WebSocket::from_raw_socket(
            MemStream::new(wire.clone(), 0),
            trole,
            Some(their_config()),
        );
        group.bench_function(BenchmarkId::new("tungstenite", &id), |b| {
            b.iter(|| decode_tungstenite(&mut ws, frames))
        });

        group.bench_function(BenchmarkId::new("rfc6455_decode_only", &id), |b| {
            b.iter_batched_ref(
                || {
                    let mut conn = Connection::open(role, our_config());
                    conn.receive(&wire);
                    conn
                },
                |conn| assert_eq!(drain(conn), frames),
                BatchSize::PerIteration,
            )
        });

        let mut dst = vec![0u8; wire.len()];
        group.bench_function(BenchmarkId::new("memcpy", &id), |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&wire));
                black_box(&mut dst);
            })
        });

        if text {
            // The UTF-8 validation floor: checking each payload once, with
            // std (what tungstenite uses) and with simdutf8 (what we use).
            group.bench_function(BenchmarkId::new("utf8_std", &id), |b| {
                b.iter(|| {
                    for _ in 0..frames {
                        assert!(std::str::from_utf8(black_box(&body)).is_ok());
                    }
                })
            });
            group.bench_function(BenchmarkId::new("utf8_simdutf8", &id), |b| {
                b.iter(|| {
                    for _ in 0..frames {
                        assert!(simdutf8::basic::from_utf8(black_box(&body)).is_ok());
                    }
                })
            });
        }

        if masked && !text {
            let key = mask_key(1);
            group.bench_function(BenchmarkId::new("copy_unmask_avx2", &id), |b| {
                b.iter(|| {
                    common::copy_unmask(&mut dst, black_box(&wire), key);
                    black_box(&mut dst);
                })
            });
            group.bench_function(BenchmarkId::new("unmask_in_place_avx2", &id), |b| {
                b.iter(|| {
                    common::unmask_in_place(black_box(&mut dst), key);
                })
            });
            group.bench_function(BenchmarkId::new("apply_mask_in_place", &id), |b| {
                b.iter(|| {
                    rfc6455::mask::apply_mask(black_box(&mut dst), key, 0);
                })
            });
        }
    }
    group.finish();
}

/// Header parsing alone: `FrameHeader::decode` (the public decoder the
/// connection falls back on) and tungstenite's `FrameHeader::parse` over
/// the same buffer of masked 16-byte frames, each skipping the payload.
fn header_group<M: Measurement>(c: &mut Criterion<M>) {
    const FRAMES: usize = 65536;
    let wire = wire(&payload(16, false), FRAMES, false, true);
    let mut group = c.benchmark_group("decode_header");
    group.throughput(Throughput::Elements(FRAMES as u64));
    let id = format!("masked_16B_x{FRAMES}");
    group.bench_function(BenchmarkId::new("rfc6455", &id), |b| {
        b.iter(|| {
            let mut at = 0;
            let wire = black_box(&wire[..]);
            while at < wire.len() {
                let header = FrameHeader::decode(&wire[at..]).unwrap().unwrap();
                at += header.header_len + header.payload_len as usize;
            }
            at
        })
    });
    group.bench_function(BenchmarkId::new("tungstenite", &id), |b| {
        b.iter(|| {
            let mut cursor = std::io::Cursor::new(black_box(&wire[..]));
            while (cursor.position() as usize) < wire.len() {
                let (_, len) = TFrameHeader::parse(&mut cursor).unwrap().unwrap();
                cursor.set_position(cursor.position() + len);
            }
            cursor.position()
        })
    });
    group.finish();
}

fn decode<M: Measurement>(c: &mut Criterion<M>) {
    common::check_kernels();
    // What reading the clock around each iteration costs (for the
    // `*_decode_only` benches, which time each iteration separately).
    c.benchmark_group("timer")
        .bench_function("per_iteration_overhead", |b| {
            b.iter_batched_ref(|| 0u64, |x| *black_box(x), BatchSize::PerIteration)
        });
    header_group(c);
    for masked in [true, false] {
        for text in [false, true] {
            bench_group(c, masked, text);
        }
    }
}

fn main() {
    common::main_with(decode, decode);
}
