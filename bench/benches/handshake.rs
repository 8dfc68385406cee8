//! The server side of the opening handshake: parse a typical Chrome upgrade
//! request and produce the 101 response, from a fresh connection each time.
//!
//! - `rfc6455`: `Connection::server` + `receive` + `next_event` (the
//!   `Event::Request`) + `accept(Accept::new())` + writing `output()` to a sink.
//! - `tungstenite`: `tungstenite::accept` over an in-memory stream (request in,
//!   response out), which also builds the `WebSocket`.
//! - `accept_key/*`: only the SHA-1 + base64 of `Sec-WebSocket-Accept`, which
//!   both must do; the floor under either handshake.

use std::hint::black_box;
use std::io::{self, Read, Write};

use criterion::measurement::Measurement;
use criterion::Criterion;
use rfc6455::{Accept, Config, Connection, Event};

mod common;

/// What Chrome sends to `new WebSocket("ws://example.com:8000/chat")`.
const CHROME_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: example.com:8000\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://example.com:8000\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Request bytes in, response bytes out.
struct HandshakeStream<'a> {
    input: &'a [u8],
    output: Vec<u8>,
}

impl Read for HandshakeStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for HandshakeStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn ours(request: &[u8], sink: &mut Vec<u8>) -> Connection {
    let mut conn = Connection::server(Config::default());
    conn.receive(request);
    match conn.next_event().expect("request") {
        Some(Event::Request(req)) => black_box(req),
        other => panic!("unexpected {other:?}"),
    };
    conn.accept(Accept::new()).expect("accept");
    loop {
        let out = conn.output();
        if out.is_empty() {
            break;
        }
        sink.extend_from_slice(out);
        let n = out.len();
        conn.consume_output(n);
    }
    conn
}

fn theirs(request: &[u8]) -> tungstenite::WebSocket<HandshakeStream<'_>> {
    let stream = HandshakeStream {
        input: request,
        output: Vec::new(),
    };
    tungstenite::accept(stream).expect("tungstenite accept")
}

fn handshake<M: Measurement>(c: &mut Criterion<M>) {
    // Both produce a 101 with the right accept key.
    let mut sink = Vec::new();
    ours(CHROME_REQUEST, &mut sink);
    let text = String::from_utf8(sink.clone()).unwrap();
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.contains(ACCEPT), "{text}");
    let ws = theirs(CHROME_REQUEST);
    let text = String::from_utf8(ws.get_ref().output.clone()).unwrap();
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.contains(ACCEPT), "{text}");

    let mut group = c.benchmark_group("handshake_server");
    group.bench_function("rfc6455", |b| {
        b.iter(|| {
            sink.clear();
            black_box(ours(black_box(CHROME_REQUEST), &mut sink));
        })
    });
    group.bench_function("tungstenite", |b| {
        b.iter(|| black_box(theirs(black_box(CHROME_REQUEST))))
    });
    let key = b"dGhlIHNhbXBsZSBub25jZQ==";
    group.bench_function("accept_key/rfc6455", |b| {
        b.iter(|| black_box(rfc6455::handshake::accept_key(black_box(key))))
    });
    group.bench_function("accept_key/tungstenite", |b| {
        b.iter(|| black_box(tungstenite::handshake::derive_accept_key(black_box(key))))
    });
    group.finish();
}

fn main() {
    common::main_with(handshake, handshake);
}
