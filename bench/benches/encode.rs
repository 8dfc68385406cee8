//! Encoding: a long-lived connection sends binary messages one after the
//! other, and after each send what it queued is written to an in-memory
//! sink (a `Vec` cleared every iteration), as a socket write would take it.
//!
//! Groups `encode_server_unmasked` and `encode_client_masked`. In each:
//!
//! - `rfc6455_send`: `send(Message::Binary(bytes))` (a payload of 16 KiB
//!   or more is queued by reference: a server's as it is, a client's masked
//!   256 KiB at a time as `consume_output` takes it), then `output()` /
//!   `consume_output()` into the sink until empty.
//! - `rfc6455_send_binary`: `send_binary(&[u8])` (always copies), then the same.
//! - `tungstenite`: `WebSocket::send(Message::Binary(bytes))` over an
//!   in-memory stream (it formats into its write buffer, then flushes into
//!   the sink).
//! - `memcpy`: copy each payload into a preallocated buffer, the ceiling for
//!   anything that ends with the bytes in the sink.
//! - client only: `copy_mask_avx2`, a one-pass copy + XOR of each payload
//!   into a buffer as large as the payload, the ceiling for an encoder that
//!   masks a payload whole before it is written.
//!
//! Throughput is wire bytes per second; the parameter names the payload
//! size and messages per iteration, so per-frame time is the median divided
//! by the count.

mod common;

use std::hint::black_box;

use common::{frame_count, mask_key, param, payload, MemStream, SIZES};
use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion, Throughput};
use rfc6455::frame::MAX_HEADER_LEN;
use rfc6455::{Bytes, Config, Connection, Event, Message, Role};
use tungstenite::protocol::{Role as TRole, WebSocket, WebSocketConfig};
use tungstenite::Message as TMessage;

fn our_config() -> Config {
    Config {
        max_frame_size: 64 << 20,
        max_message_size: 64 << 20,
        max_buffered_amount: usize::MAX,
        ..Config::default()
    }
}

/// Writes everything queued into the sink, as a write loop would.
fn flush_into(conn: &mut Connection, sink: &mut Vec<u8>) {
    loop {
        let out = conn.output();
        if out.is_empty() {
            break;
        }
        sink.extend_from_slice(out);
        let n = out.len();
        conn.consume_output(n);
    }
}

fn send_ours(conn: &mut Connection, body: &Bytes, frames: usize, sink: &mut Vec<u8>) {
    sink.clear();
    for _ in 0..frames {
        conn.send(Message::Binary(body.clone())).unwrap();
        flush_into(conn, sink);
    }
    black_box(sink);
}

fn send_binary_ours(conn: &mut Connection, body: &[u8], frames: usize, sink: &mut Vec<u8>) {
    sink.clear();
    for _ in 0..frames {
        conn.send_binary(body).unwrap();
        flush_into(conn, sink);
    }
    black_box(sink);
}

fn send_theirs(ws: &mut WebSocket<MemStream>, body: &Bytes, frames: usize) {
    ws.get_mut().output.clear();
    for _ in 0..frames {
        ws.send(TMessage::Binary(body.clone())).unwrap();
    }
    black_box(&mut ws.get_mut().output);
}

/// Decodes `wire` with a connection of the opposite role and checks every
/// message.
fn check_wire(peer: Role, wire: &[u8], frames: usize, expect: &[u8]) {
    let mut conn = Connection::open(peer, our_config());
    conn.receive(wire);
    let mut n = 0;
    while let Some(event) = conn.next_event().expect("decode") {
        let Event::Message(m) = event else {
            panic!("unexpected event")
        };
        assert_eq!(m.as_bytes(), expect);
        n += 1;
    }
    assert_eq!(n, frames);
}

fn bench_group<M: Measurement>(c: &mut Criterion<M>, role: Role) {
    let (name, trole, peer) = match role {
        Role::Server => ("encode_server_unmasked", TRole::Server, Role::Client),
        Role::Client => ("encode_client_masked", TRole::Client, Role::Server),
    };
    let mut group = c.benchmark_group(name);
    for &size in &SIZES {
        let frames = frame_count(size);
        let body = Bytes::from(payload(size, false));
        let id = param(size, frames);
        let capacity = frames * (size + MAX_HEADER_LEN);
        let mut sink = Vec::with_capacity(capacity);

        // One run of each, checked, before any timing.
        let mut conn = Connection::open(role, our_config());
        send_ours(&mut conn, &body, frames, &mut sink);
        check_wire(peer, &sink, frames, &body);
        group.throughput(Throughput::Bytes(sink.len() as u64));
        let mut conn2 = Connection::open(role, our_config());
        send_binary_ours(&mut conn2, &body, frames, &mut sink);
        check_wire(peer, &sink, frames, &body);
        let config = WebSocketConfig::default();
        let mut ws =
            WebSocket::from_raw_socket(MemStream::new(Vec::new(), capacity), trole, Some(config));
        send_theirs(&mut ws, &body, frames);
        check_wire(peer, &ws.get_ref().output, frames, &body);

        group.bench_function(BenchmarkId::new("rfc6455_send", &id), |b| {
            b.iter(|| send_ours(&mut conn, black_box(&body), frames, &mut sink))
        });
        group.bench_function(BenchmarkId::new("rfc6455_send_binary", &id), |b| {
            b.iter(|| send_binary_ours(&mut conn2, black_box(&body), frames, &mut sink))
        });
        group.bench_function(BenchmarkId::new("tungstenite", &id), |b| {
            b.iter(|| send_theirs(&mut ws, black_box(&body), frames))
        });

        let mut dst = vec![0u8; capacity];
        group.bench_function(BenchmarkId::new("memcpy", &id), |b| {
            b.iter(|| {
                let src = black_box(&body[..]);
                for chunk in dst.chunks_exact_mut(size.max(1)).take(frames) {
                    chunk[..size].copy_from_slice(src);
                }
                black_box(&mut dst);
            })
        });

        if role == Role::Client {
            group.bench_function(BenchmarkId::new("copy_mask_avx2", &id), |b| {
                b.iter(|| {
                    let src = black_box(&body[..]);
                    for (i, chunk) in dst.chunks_exact_mut(size.max(1)).take(frames).enumerate() {
                        common::copy_unmask(&mut chunk[..size], src, mask_key(i));
                    }
                    black_box(&mut dst);
                })
            });
        }
    }
    group.finish();
}

fn encode<M: Measurement>(c: &mut Criterion<M>) {
    common::check_kernels();
    bench_group(c, Role::Server);
    bench_group(c, Role::Client);
}

fn main() {
    common::main_with(encode, encode);
}
