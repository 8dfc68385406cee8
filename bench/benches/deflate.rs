//! permessage-deflate: what the connection adds to the codec itself.
//!
//! - `deflate_compress`: a server's `send_text` of a message, compressed
//!   (12-bit window, context takeover, level 6: the defaults) and framed,
//!   its output taken; beside it, raw `flate2` on the same backend
//!   (zlib-rs) with the same window and level, sync-flushed into a reused
//!   buffer.
//! - `deflate_inflate`: a client taking in the server's frames of such
//!   messages and handing each message out (`next_event`); beside it, raw
//!   `flate2` inflating the same compressed data, in order (the context
//!   carries across messages).
//! - `deflate_echo`: a client sends 100 messages, the server echoes each,
//!   the client takes the echoes, all in memory: with permessage-deflate
//!   negotiated and without it.
//!
//! Two messages: a 16 KiB JSON document, and 16-byte chat lines (64
//! different ones in turn; compressed here although the default threshold
//! sends lines this short as they are). The compression ratios print
//! first.
//!
//! ```text
//! cargo bench -p rfc6455-bench --bench deflate
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455::{Accept, ClientRequest, Config, Connection, DeflateConfig, Event, Message};

/// The server's compressor window: `DeflateConfig`'s default.
const SERVER_WINDOW_BITS: u8 = 12;
const LEVEL: u32 = 6;
/// What RFC 7692 strips from the end of each compressed message.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// A JSON document of 16 KiB: an array of records, as an API sends them.
fn json_16k() -> String {
    let mut out = String::from("[");
    let mut i = 0u32;
    while out.len() < 16 * 1024 - 200 {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"id":{},"user":"user{}","room":"general","sent":"2026-12-02T01:{:02}:{:02}Z","text":"message number {} with some words","likes":{}}}"#,
            1000 + i,
            i % 37,
            i % 60,
            (i * 7) % 60,
            i,
            (i * 13) % 17
        ));
        i += 1;
    }
    out.push(']');
    while out.len() < 16 * 1024 {
        out.insert(out.len() - 1, ' ');
    }
    out
}

/// 64 different chat lines of 16 bytes each.
fn chat_lines() -> Vec<String> {
    let words = ["hi", "ok", "yes", "no", "lol", "brb", "sure", "why"];
    (0..64)
        .map(|i| {
            let line = format!("{} {} #{:02}", words[i % 8], words[(i / 8) % 8], i);
            format!("{line:<16}")
        })
        .collect()
}

/// A client and a server connection with permessage-deflate negotiated
/// (or not), every message compressed whatever its size.
fn pair(deflate: bool) -> (Connection, Connection) {
    let config = Config {
        deflate: deflate.then(|| DeflateConfig {
            compress_threshold: 0,
            ..DeflateConfig::default()
        }),
        max_message_size: 64 << 20,
        ..Config::default()
    };
    let request = ClientRequest::new("ws://bench.example/").unwrap();
    let mut client = Connection::client(request, config.clone()).unwrap();
    let mut server = Connection::server(config);
    pump(&mut client, &mut server);
    match server.next_event().unwrap() {
        Some(Event::Request(_)) => server.accept(Accept::new()).unwrap(),
        other => panic!("expected the request, got {other:?}"),
    }
    pump(&mut server, &mut client);
    match client.next_event().unwrap() {
        Some(Event::Open(_)) => {}
        other => panic!("expected the opening, got {other:?}"),
    }
    assert_eq!(client.compression_negotiated(), deflate);
    assert_eq!(server.compression_negotiated(), deflate);
    (client, server)
}

/// Moves everything `from` has queued into `to`.
fn pump(from: &mut Connection, to: &mut Connection) {
    let mut bytes = Vec::new();
    from.write_output_to(&mut bytes).unwrap();
    to.receive(&bytes);
}

fn take_output(conn: &mut Connection) -> Vec<u8> {
    let mut bytes = Vec::new();
    conn.write_output_to(&mut bytes).unwrap();
    bytes
}

/// Raw flate2 with the server's parameters: compresses one message with
/// a sync flush, context kept, into `out` (cleared first).
fn raw_compress(compress: &mut Compress, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let start_in = compress.total_in();
    loop {
        out.reserve(data.len() / 2 + 64);
        let done = (compress.total_in() - start_in) as usize;
        compress
            .compress_vec(&data[done..], out, FlushCompress::Sync)
            .unwrap();
        let consumed = (compress.total_in() - start_in) as usize == data.len();
        if consumed && out.ends_with(&TAIL) && out.len() < out.capacity() {
            break;
        }
    }
}

/// Raw flate2 inflating one message (its compressed bytes with the tail
/// put back) into `out` (cleared first).
fn raw_inflate(decompress: &mut Decompress, data: &[u8], expect: usize, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(expect + 64);
    let start_in = decompress.total_in();
    loop {
        let done = (decompress.total_in() - start_in) as usize;
        decompress
            .decompress_vec(&data[done..], out, FlushDecompress::Sync)
            .unwrap();
        if (decompress.total_in() - start_in) as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.len());
    }
}

fn messages() -> Vec<(&'static str, Vec<String>)> {
    vec![("json_16KiB", vec![json_16k()]), ("chat_16B", chat_lines())]
}

fn print_ratios() {
    for (name, texts) in messages() {
        let original: usize = texts.iter().map(String::len).sum();
        let (_, mut server) = pair(true);
        let mut framed = 0;
        for text in &texts {
            server.send_text(text).unwrap();
            framed += take_output(&mut server).len();
        }
        let mut compress =
            Compress::new_with_window_bits(Compression::new(LEVEL), false, SERVER_WINDOW_BITS);
        let mut out = Vec::new();
        let mut raw = 0;
        for text in &texts {
            raw_compress(&mut compress, text.as_bytes(), &mut out);
            raw += out.len() - TAIL.len();
        }
        println!(
            "deflate ratio {name}: {original} bytes -> {framed} framed by rfc6455 ({:.2}x), {raw} raw deflate ({:.2}x)",
            original as f64 / framed as f64,
            original as f64 / raw as f64
        );
    }
}

fn compress(c: &mut Criterion) {
    print_ratios();
    let mut group = c.benchmark_group("deflate_compress");
    for (name, texts) in messages() {
        group.throughput(Throughput::Bytes(texts[0].len() as u64));
        group.bench_function(format!("rfc6455_send_text/{name}"), |b| {
            let (_, mut server) = pair(true);
            let mut next = texts.iter().cycle();
            b.iter(|| {
                server.send_text(next.next().unwrap()).unwrap();
                let queued = server.buffered_amount();
                server.consume_output(queued);
                black_box(queued)
            })
        });
        group.bench_function(format!("flate2_raw/{name}"), |b| {
            let mut compress =
                Compress::new_with_window_bits(Compression::new(LEVEL), false, SERVER_WINDOW_BITS);
            let mut out = Vec::new();
            let mut next = texts.iter().cycle();
            b.iter(|| {
                raw_compress(&mut compress, next.next().unwrap().as_bytes(), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn inflate(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_inflate");
    for (name, texts) in messages() {
        group.throughput(Throughput::Bytes(texts[0].len() as u64));
        group.bench_function(format!("rfc6455_next_event/{name}"), |b| {
            b.iter_custom(|iters| {
                // The server's frames, in order: each inflates only after
                // the ones before it (context takeover).
                let (mut client, mut server) = pair(true);
                let mut wire = Vec::new();
                for text in texts.iter().cycle().take(iters as usize) {
                    server.send_text(text).unwrap();
                    server.write_output_to(&mut wire).unwrap();
                }
                let start = Instant::now();
                client.receive(&wire);
                for _ in 0..iters {
                    match client.next_event().unwrap() {
                        Some(Event::Message(Message::Text(text))) => {
                            black_box(text.len());
                        }
                        other => panic!("expected text, got {other:?}"),
                    }
                }
                start.elapsed()
            })
        });
        group.bench_function(format!("flate2_raw/{name}"), |b| {
            b.iter_custom(|iters| {
                let mut compress = Compress::new_with_window_bits(
                    Compression::new(LEVEL),
                    false,
                    SERVER_WINDOW_BITS,
                );
                let mut compressed = Vec::new();
                let mut out = Vec::new();
                for text in texts.iter().cycle().take(iters as usize) {
                    raw_compress(&mut compress, text.as_bytes(), &mut out);
                    compressed.push((out.clone(), text.len()));
                }
                let mut decompress = Decompress::new_with_window_bits(false, 15);
                let mut inflated = Vec::new();
                let start = Instant::now();
                for (data, len) in &compressed {
                    raw_inflate(&mut decompress, data, *len, &mut inflated);
                    black_box(inflated.len());
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_echo");
    const IN_FLIGHT: usize = 100;
    for (name, texts) in messages() {
        let texts: Vec<String> = texts.iter().cycle().take(IN_FLIGHT).cloned().collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        for deflate in [true, false] {
            let label = if deflate { "deflate" } else { "none" };
            group.bench_function(format!("{label}/{name}"), |b| {
                let (mut client, mut server) = pair(deflate);
                b.iter(|| {
                    for text in &texts {
                        client.send_text(text).unwrap();
                    }
                    pump(&mut client, &mut server);
                    while let Some(event) = server.next_event().unwrap() {
                        if let Event::Message(message) = event {
                            server.send(message).unwrap();
                        }
                    }
                    pump(&mut server, &mut client);
                    let mut got = 0;
                    while let Some(event) = client.next_event().unwrap() {
                        if let Event::Message(message) = event {
                            got += message.len();
                        }
                    }
                    assert_eq!(got, bytes);
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = compress, inflate, echo
}
criterion_main!(benches);
