//! What an idle connection with permessage-deflate holds, as the README's
//! defaults table states it: with context takeover (the default) each end
//! keeps a compressor and an inflater for the connection's life, a few
//! hundred KiB; without it, `shrink_buffers` between messages brings a
//! connection back to a few KiB.
//!
//! Measured as the growth of the process's resident memory over many
//! connection pairs kept alive together, each having exchanged one 512-byte
//! message each way. The only test in this file, so no other test
//! allocates beside it. Linux only (`/proc/self/statm`).
#![cfg(all(feature = "deflate", target_os = "linux"))]

mod common;

use common::*;
use rfc6455::{Config, Connection, DeflateConfig, Event};

const PAIRS: usize = 200;

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Opens `PAIRS` connection pairs with `deflate`, echoes one compressible
/// 512-byte message on each, idles them (`shrink_buffers`, as the
/// heartbeat's idle step does) and returns the resident bytes each
/// connection added, with the pairs (kept alive until measured).
fn resident_per_connection(deflate: DeflateConfig) -> (usize, Vec<(Connection, Connection)>) {
    let config = Config {
        deflate: Some(deflate),
        ..Config::default()
    };
    let text = "{\"user\":\"someone\",\"text\":\"hello, room\"} ".repeat(20);
    let text = &text[..512];
    let before = resident_bytes();
    let mut pairs = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let (mut client, mut server) = open_pair(config.clone(), config.clone());
        assert!(client.compression_negotiated());
        client.send_text(text).unwrap();
        pump(&mut client, &mut server);
        let Ok(Some(Event::Message(message))) = server.next_event() else {
            panic!("the server got no message");
        };
        server.send(message).unwrap();
        pump(&mut server, &mut client);
        let Ok(Some(Event::Message(echo))) = client.next_event() else {
            panic!("the client got no echo");
        };
        assert!(echo.is_text() && echo.as_bytes() == text.as_bytes());
        client.shrink_buffers();
        server.shrink_buffers();
        pairs.push((client, server));
    }
    let grown = resident_bytes().saturating_sub(before);
    (grown / (2 * PAIRS), pairs)
}

#[test]
fn an_idle_connection_holds_its_codecs_with_context_takeover_and_little_without() {
    let (without, pairs) = resident_per_connection(DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateConfig::default()
    });
    drop(pairs);
    let (with, pairs) = resident_per_connection(DeflateConfig::default());
    drop(pairs);
    eprintln!(
        "resident per idle connection: {} KiB with context takeover, {} KiB without",
        with / 1024,
        without / 1024
    );
    assert!(
        without <= 16 * 1024,
        "{without} bytes per idle connection without context takeover"
    );
    assert!(
        (64 * 1024..=512 * 1024).contains(&with),
        "{with} bytes per idle connection with context takeover"
    );
}
