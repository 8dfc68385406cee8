//! permessage-deflate (RFC 7692) in the core, both roles in memory: the
//! negotiation each side agrees on, every parameter combination, window
//! bits 8 to 15, context takeover and its absence, RSV1 rules, fragmented
//! compressed messages both ways, the limits on inflated bytes (a zip
//! bomb), and data that does not inflate. The wire is read and written by
//! the test itself with `flate2` (an independent peer), not through the
//! library's codec.
#![cfg(feature = "deflate")]

mod common;

use common::*;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455::{
    Accept, ClientRequest, CloseCode, Config, Connection, DeflateConfig, Error, Event,
    HandshakeError, Message, MessageKind, ProtocolError, Role,
};

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

fn with_deflate(deflate: DeflateConfig) -> Config {
    Config {
        deflate: Some(deflate),
        ..Config::default()
    }
}

fn json(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"hello there\"}},",
                i % 7
            )
        })
        .collect()
}

/// Raw DEFLATE of `data` ending in a sync flush, as a peer sends it: the
/// tail left off.
fn peer_compress(compressor: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let start = compressor.total_in();
    let mut rest = data;
    loop {
        out.reserve(rest.len() + 1024);
        compressor
            .compress_vec(rest, &mut out, FlushCompress::Sync)
            .unwrap();
        let done = (compressor.total_in() - start) as usize;
        rest = &data[done..];
        if rest.is_empty() && out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - TAIL.len());
    out
}

/// Inflates one message as a peer reads it: the tail put back.
fn peer_inflate(inflater: &mut Decompress, payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&TAIL);
    let mut out = Vec::with_capacity(1024);
    let start = inflater.total_in();
    loop {
        let done = (inflater.total_in() - start) as usize;
        out.reserve(64 * 1024);
        inflater
            .decompress_vec(&input[done..], &mut out, FlushDecompress::Sync)
            .unwrap();
        if (inflater.total_in() - start) as usize == input.len() && out.len() < out.capacity() {
            return out;
        }
    }
}

/// A client and a server that agreed on permessage-deflate.
fn deflate_pair(client: DeflateConfig, server: DeflateConfig) -> (Connection, Connection) {
    let (client, server) = open_pair(with_deflate(client), with_deflate(server));
    assert!(client.compression_negotiated() && server.compression_negotiated());
    (client, server)
}

/// The answer our server gives to `offer`, and the opened server.
fn server_answering(offer: &str, config: Config) -> (Option<String>, Connection) {
    let mut server = Connection::server(config);
    server.receive(
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: {offer}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.accept(Accept::new()).unwrap();
    let head = String::from_utf8(drain(&mut server)).unwrap();
    let answer = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_owned);
    (answer, server)
}

/// Sends messages both ways and checks each arrives whole.
fn exchange(client: &mut Connection, server: &mut Connection, messages: &[Message]) {
    for message in messages {
        client.send(message.clone()).unwrap();
        pump(client, server);
        assert_eq!(events(server), [Event::Message(message.clone())]);
        server.send(message.clone()).unwrap();
        pump(server, client);
        assert_eq!(events(client), [Event::Message(message.clone())]);
    }
}

fn messages() -> Vec<Message> {
    let noise: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        Message::from(""),
        Message::from("short"),
        Message::from(json(40)),
        Message::Binary(noise.into()),
        Message::from(json(400)),
        Message::from(json(40)),
    ]
}

// ------------------------------------------------------------ negotiation

#[test]
fn a_client_offers_what_browsers_offer_and_the_server_answers() {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let request = String::from_utf8(drain(&mut client)).unwrap();
    assert!(
        request.contains("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=12\r\n"),
        "{request}"
    );
    // A browser's offer, to the default server: accepted as it is.
    let (answer, server) = server_answering(
        "permessage-deflate; client_max_window_bits",
        Config::default(),
    );
    assert_eq!(answer.as_deref(), Some("permessage-deflate"));
    assert!(server.compression_negotiated());
    // Off: nothing offered, nothing answered.
    let off = Config {
        deflate: None,
        ..Config::default()
    };
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap(),
        off.clone(),
    )
    .unwrap();
    let request = String::from_utf8(drain(&mut client)).unwrap();
    assert!(!request.contains("Sec-WebSocket-Extensions"), "{request}");
    let (answer, server) = server_answering("permessage-deflate", off);
    assert_eq!(answer, None);
    assert!(!server.compression_negotiated());
}

/// The client's view of a 101 answer carrying `extensions`.
fn client_given_answer(config: Config, extensions: &str) -> Result<Connection, Error> {
    let mut client =
        Connection::client(ClientRequest::new("ws://example.com/").unwrap(), config).unwrap();
    let request = String::from_utf8(drain(&mut client)).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = rfc6455::handshake::accept_key(key.as_bytes());
    client.receive(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
        )
        .as_bytes(),
    );
    client.next_event().map(|event| {
        assert!(matches!(event, Some(Event::Open(_))));
        client
    })
}

#[test]
fn the_client_fails_on_answers_section_7_1_forbids() {
    let client = client_given_answer(
        Config::default(),
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
    )
    .unwrap();
    assert!(client.compression_negotiated());
    for bad in [
        // A larger server window than the client asked for (12).
        "permessage-deflate; server_max_window_bits=13",
        "permessage-deflate; server_max_window_bits=7",
        // What the client asked for is not answered.
        "permessage-deflate",
        "permessage-deflate; server_max_window_bits=12; mystery",
        "permessage-deflate; server_max_window_bits=12; server_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=12, permessage-deflate; server_max_window_bits=12",
    ] {
        match client_given_answer(Config::default(), bad) {
            Err(Error::Handshake { error: HandshakeError::InvalidExtensionAnswer(_), .. }) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    match client_given_answer(Config::default(), "x-webkit-deflate-frame") {
        Err(Error::Handshake {
            error: HandshakeError::UnexpectedExtension(name),
            ..
        }) => {
            assert_eq!(name, "x-webkit-deflate-frame")
        }
        other => panic!("{other:?}"),
    }
    // Not offered at all: any answer is refused.
    let off = Config {
        deflate: None,
        ..Config::default()
    };
    assert!(matches!(
        client_given_answer(off, "permessage-deflate"),
        Err(Error::Handshake {
            error: HandshakeError::UnexpectedExtension(_),
            ..
        })
    ));
}

// ------------------------------------------------------------ round trips

#[test]
fn every_parameter_combination_carries_messages_both_ways() {
    for flags in 0..4u8 {
        for client_bits in [8u8, 11, 15] {
            for server_bits in [8u8, 12, 15] {
                let client = DeflateConfig {
                    server_no_context_takeover: flags & 1 != 0,
                    client_no_context_takeover: flags & 2 != 0,
                    server_max_window_bits: server_bits,
                    client_max_window_bits: client_bits,
                    ..DeflateConfig::default()
                };
                let server = DeflateConfig {
                    client_max_window_bits: client_bits,
                    server_max_window_bits: server_bits,
                    ..DeflateConfig::default()
                };
                let (mut client, mut server) = deflate_pair(client, server);
                exchange(&mut client, &mut server, &messages());
            }
        }
    }
}

#[test]
fn every_window_from_8_to_15_bits_reads_back_with_a_peer_of_that_window() {
    let text = json(3000);
    for bits in 8u8..=15 {
        let config = DeflateConfig {
            server_max_window_bits: bits,
            client_max_window_bits: bits,
            compress_threshold: 0,
            ..DeflateConfig::default()
        };
        let (mut client, mut server) = deflate_pair(config.clone(), config);
        // What the server sends, a peer with exactly that window inflates
        // (zlib reads with at least 9 bits: an 8-bit agreement is sent
        // with 9-bit distances, at most 250 bytes back).
        server.send_text(&text).unwrap();
        let frames = parse_frames(&drain(&mut server));
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].rsv, 0b100);
        let mut inflater = Decompress::new_with_window_bits(false, bits.max(9));
        let inflated = peer_inflate(&mut inflater, &frames[0].payload);
        assert_eq!(inflated, text.as_bytes(), "bits {bits}");
        client.receive(&encode_frame(true, 0b100, 1, None, &frames[0].payload));
        assert_eq!(
            events(&mut client),
            [Event::Message(Message::from(text.clone()))]
        );
        exchange(&mut client, &mut server, &[Message::from(text.clone())]);
    }
}

#[test]
fn wire_frames_carry_rsv1_on_the_first_frame_only_and_no_tail() {
    let (mut client, mut server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    let text = json(100);
    // Whole: one frame, RSV1, inflates with the tail put back.
    client.send_text(&text).unwrap();
    let frames = parse_frames(&drain(&mut client));
    assert_eq!(
        (frames[0].rsv, frames[0].opcode, frames[0].fin),
        (0b100, 1, true)
    );
    assert!(frames[0].payload.len() < text.len() / 3);
    assert!(!frames[0].payload.ends_with(&TAIL));
    let mut inflater = Decompress::new(false);
    assert_eq!(
        peer_inflate(&mut inflater, &frames[0].payload),
        text.as_bytes()
    );
    // Below the threshold (64 bytes): sent as it is.
    server.send_text("hello").unwrap();
    assert_eq!(drain(&mut server), b"\x81\x05hello");
    // Control frames: never compressed.
    server.ping(&[b'p'; 100]).unwrap();
    let frames = parse_frames(&drain(&mut server));
    assert_eq!((frames[0].rsv, frames[0].opcode), (0, 9));
    // Fragments: RSV1 on the first, compressed as they are given.
    server
        .send_fragment(MessageKind::Text, &text.as_bytes()[..1000], false)
        .unwrap();
    server
        .send_fragment(MessageKind::Text, &text.as_bytes()[1000..2000], false)
        .unwrap();
    server
        .send_fragment(MessageKind::Text, &text.as_bytes()[2000..], true)
        .unwrap();
    let frames = parse_frames(&drain(&mut server));
    let heads: Vec<_> = frames.iter().map(|f| (f.rsv, f.opcode, f.fin)).collect();
    assert_eq!(heads, [(0b100, 1, false), (0, 0, false), (0, 0, true)]);
    let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload.clone()).collect();
    let mut inflater = Decompress::new(false);
    assert_eq!(peer_inflate(&mut inflater, &joined), text.as_bytes());
    // An empty compressed message is one 0x00 byte.
    server
        .send_fragment(MessageKind::Binary, b"", true)
        .unwrap();
    assert_eq!(drain(&mut server), [0xc2, 0x01, 0x00]);
}

#[test]
fn fragmented_compressed_messages_from_a_peer_inflate_as_they_arrive() {
    let (mut client, _server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    let text = json(400);
    let mut compressor = Compress::new(Compression::default(), false);
    let compressed = peer_compress(&mut compressor, text.as_bytes());
    let third = compressed.len() / 3;
    let mut wire = encode_frame(false, 0b100, 1, None, &compressed[..third]);
    // A ping between fragments is answered and reported.
    wire.extend(encode_frame(true, 0, 9, None, b"in between"));
    wire.extend(encode_frame(
        false,
        0,
        0,
        None,
        &compressed[third..2 * third],
    ));
    wire.extend(encode_frame(true, 0, 0, None, &compressed[2 * third..]));
    // The same message again, relying on the window of the first
    // (context takeover), in one frame.
    let again = peer_compress(&mut compressor, text.as_bytes());
    assert!(again.len() * 4 < compressed.len());
    wire.extend(encode_frame(true, 0b100, 1, None, &again));
    // An empty compressed message, then an uncompressed one.
    wire.extend(encode_frame(true, 0b100, 2, None, &[0x00]));
    wire.extend(encode_frame(true, 0, 1, None, b"plain"));
    // A byte at a time: frames complete one by one.
    for byte in wire {
        client.receive(&[byte]);
    }
    let (got, error) = events_until_error(&mut client);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        got,
        [
            Event::Ping(b"in between".to_vec().into()),
            Event::Message(Message::from(text.clone())),
            Event::Message(Message::from(text.clone())),
            Event::Message(Message::Binary(Default::default())),
            Event::Message(Message::from("plain")),
        ]
    );
    // And through next_event_ref too.
    let mut compressor = Compress::new(Compression::default(), false);
    let compressed = peer_compress(&mut compressor, text.as_bytes());
    let (mut client, _server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    client.receive(&encode_frame(true, 0b100, 1, None, &compressed));
    let (got, error) = events_until_error_ref(&mut client);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(got, [Event::Message(Message::from(text))]);
}

#[test]
fn without_context_takeover_each_message_starts_afresh() {
    let text = json(30);
    let sizes = |config: DeflateConfig| {
        let (mut client, mut server) = deflate_pair(config.clone(), config);
        let mut sizes = Vec::new();
        for _ in 0..3 {
            server.send_text(&text).unwrap();
            let wire = drain(&mut server);
            sizes.push(parse_frames(&wire)[0].payload.len());
            client.receive(&wire);
            assert_eq!(
                events(&mut client),
                [Event::Message(Message::from(text.clone()))]
            );
            client.send_text(&text).unwrap();
            let wire = drain(&mut client);
            sizes.push(parse_frames(&wire)[0].payload.len());
            server.receive(&wire);
            assert_eq!(
                events(&mut server),
                [Event::Message(Message::from(text.clone()))]
            );
        }
        // Messages still read back, whatever was agreed.
        exchange(&mut client, &mut server, &messages());
        sizes
    };
    let takeover = sizes(DeflateConfig::default());
    assert!(takeover[2] * 4 < takeover[0], "{takeover:?}");
    assert!(takeover[3] * 4 < takeover[1], "{takeover:?}");
    let reset = sizes(DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateConfig::default()
    });
    assert!(reset.chunks(2).all(|pair| pair == &reset[..2]), "{reset:?}");
    // The server resets when only the server's side is without takeover.
    let server_only = sizes(DeflateConfig {
        server_no_context_takeover: true,
        ..DeflateConfig::default()
    });
    assert_eq!(server_only[0], server_only[2], "{server_only:?}");
    assert!(server_only[3] * 4 < server_only[1], "{server_only:?}");
    // A peer that resets anyway is read by our inflater that would not.
    let (mut client, _server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    for _ in 0..2 {
        let mut fresh = Compress::new(Compression::default(), false);
        let payload = peer_compress(&mut fresh, text.as_bytes());
        client.receive(&encode_frame(true, 0b100, 1, None, &payload));
        assert_eq!(
            events(&mut client),
            [Event::Message(Message::from(text.clone()))]
        );
    }
}

// ------------------------------------------------------------ violations

fn close_code_sent(conn: &mut Connection) -> Option<u16> {
    parse_frames(&drain(conn))
        .iter()
        .find(|f| f.opcode == 8)
        .and_then(|f| f.close_code())
}

#[test]
fn rsv1_is_refused_where_the_extension_does_not_allow_it() {
    let compressed = {
        let mut compressor = Compress::new(Compression::default(), false);
        peer_compress(&mut compressor, b"hello hello")
    };
    let cases: [(&str, Vec<u8>); 4] = [
        ("on a ping", encode_frame(true, 0b100, 9, None, b"x")),
        ("on a continuation", {
            let mut wire = encode_frame(false, 0b100, 1, None, &compressed[..2]);
            wire.extend(encode_frame(true, 0b100, 0, None, &compressed[2..]));
            wire
        }),
        ("RSV2", encode_frame(true, 0b010, 1, None, &compressed)),
        (
            "RSV1 and RSV3",
            encode_frame(true, 0b101, 1, None, &compressed),
        ),
    ];
    for (what, wire) in cases {
        let (mut client, _server) =
            deflate_pair(DeflateConfig::default(), DeflateConfig::default());
        client.receive(&wire);
        let (_, error) = events_until_error(&mut client);
        assert!(
            matches!(error, Some(Error::Protocol(ProtocolError::ReservedBits(_)))),
            "{what}: {error:?}"
        );
        assert_eq!(close_code_sent(&mut client), Some(1002), "{what}");
    }
    // Not negotiated: RSV1 is a violation too.
    let mut client = Connection::open(Role::Client, Config::default());
    client.receive(&encode_frame(true, 0b100, 1, None, &compressed));
    let (_, error) = events_until_error(&mut client);
    assert!(matches!(
        error,
        Some(Error::Protocol(ProtocolError::ReservedBits(4)))
    ));
    assert_eq!(close_code_sent(&mut client), Some(1002));
}

#[test]
fn data_that_does_not_inflate_fails_with_1002() {
    let (mut client, _server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    // BTYPE 11 is reserved.
    client.receive(&encode_frame(true, 0b100, 1, None, &[0xff, 0xff, 0xff]));
    let (_, error) = events_until_error(&mut client);
    match error {
        Some(Error::Protocol(e @ ProtocolError::InvalidCompressedData(_))) => {
            assert_eq!(e.close_code(), CloseCode::PROTOCOL_ERROR)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(close_code_sent(&mut client), Some(1002));
}

#[test]
fn inflated_text_is_checked_as_it_inflates() {
    let (mut client, _server) = deflate_pair(DeflateConfig::default(), DeflateConfig::default());
    let mut compressor = Compress::new(Compression::default(), false);
    let bad = peer_compress(&mut compressor, b"valid so far \xff");
    // The first fragment already fails: the rest never needs to come.
    client.receive(&encode_frame(false, 0b100, 1, None, &bad));
    let (_, error) = events_until_error(&mut client);
    assert!(
        matches!(error, Some(Error::Protocol(ProtocolError::InvalidUtf8))),
        "{error:?}"
    );
    assert_eq!(close_code_sent(&mut client), Some(1007));
}

#[test]
fn inflated_text_in_one_frame_is_checked_whole() {
    for bad in [
        &b"\xff after nothing"[..],
        b"ends inside a code point \xe2\x82",
    ] {
        let (mut client, _server) =
            deflate_pair(DeflateConfig::default(), DeflateConfig::default());
        let mut compressor = Compress::new(Compression::default(), false);
        let payload = peer_compress(&mut compressor, bad);
        client.receive(&encode_frame(true, 0b100, 1, None, &payload));
        let (events, error) = events_until_error(&mut client);
        assert!(events.is_empty(), "{events:?}");
        assert!(
            matches!(error, Some(Error::Protocol(ProtocolError::InvalidUtf8))),
            "{error:?}"
        );
        assert_eq!(close_code_sent(&mut client), Some(1007));
    }
}

#[test]
fn a_zip_bomb_is_refused_with_1009_after_inflating_at_most_the_limit() {
    let limit = 1 << 20;
    let config = Config {
        max_message_size: limit,
        max_frame_size: limit,
        ..Config::default()
    };
    let (_client, mut server) = open_pair(config.clone(), config);
    // 64 MiB of zeros in about 64 KiB.
    let bomb = vec![0u8; 64 << 20];
    let mut compressor = Compress::new(Compression::best(), false);
    let compressed = peer_compress(&mut compressor, &bomb);
    assert!(compressed.len() < 100 << 10);
    server.receive(&encode_frame(true, 0b100, 2, Some(TEST_KEY), &compressed));
    let (_, error) = events_until_error(&mut server);
    assert!(
        matches!(error, Some(Error::Protocol(ProtocolError::MessageTooBig { max })) if max == limit),
        "{error:?}"
    );
    assert_eq!(close_code_sent(&mut server), Some(1009));
    // Never more than the limit (and a step) was held.
    assert!(
        server.buffer_capacity() <= 2 * limit,
        "{}",
        server.buffer_capacity()
    );

    // Spread over frames: the message limit counts all of them.
    let config = Config {
        max_message_size: limit,
        max_frame_size: 16 << 20,
        ..Config::default()
    };
    let (_client, mut server) = open_pair(config.clone(), config);
    let mut compressor = Compress::new(Compression::best(), false);
    // A fragment that does not end the message keeps its flush's tail.
    let mut first = peer_compress(&mut compressor, &bomb[..600 << 10]);
    first.extend_from_slice(&TAIL);
    let second = peer_compress(&mut compressor, &bomb[600 << 10..1200 << 10]);
    let mut wire = encode_frame(false, 0b100, 2, Some(TEST_KEY), &first);
    wire.extend(encode_frame(true, 0, 0, Some(TEST_KEY), &second));
    server.receive(&wire);
    let (_, error) = events_until_error(&mut server);
    assert!(
        matches!(
            error,
            Some(Error::Protocol(ProtocolError::MessageTooBig { .. }))
        ),
        "{error:?}"
    );
    assert_eq!(close_code_sent(&mut server), Some(1009));

    // One frame inflating past the frame limit, within the message limit.
    let config = Config {
        max_message_size: 16 << 20,
        max_frame_size: 64 << 10,
        ..Config::default()
    };
    let (_client, mut server) = open_pair(config.clone(), config);
    let mut compressor = Compress::new(Compression::best(), false);
    let frame = peer_compress(&mut compressor, &bomb[..100 << 10]);
    server.receive(&encode_frame(true, 0b100, 2, Some(TEST_KEY), &frame));
    let (_, error) = events_until_error(&mut server);
    assert!(
        matches!(error, Some(Error::Protocol(ProtocolError::InflatedFrameTooBig { max })) if max == 64 << 10),
        "{error:?}"
    );
    assert_eq!(close_code_sent(&mut server), Some(1009));

    // Exactly at the limit: accepted.
    let config = Config {
        max_message_size: limit,
        max_frame_size: limit,
        ..Config::default()
    };
    let (_client, mut server) = open_pair(config.clone(), config);
    let mut compressor = Compress::new(Compression::best(), false);
    let exact = peer_compress(&mut compressor, &bomb[..limit]);
    server.receive(&encode_frame(true, 0b100, 2, Some(TEST_KEY), &exact));
    match events(&mut server).as_slice() {
        [Event::Message(Message::Binary(data))] => assert_eq!(data.len(), limit),
        other => panic!("{other:?}"),
    }
}
