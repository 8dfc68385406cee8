//! Unit tests of the connection that need its internals.

use bytes::Bytes;

use super::*;
use crate::close::CloseCode;
use crate::frame::OpCode;
use crate::message::Event;

/// Takes everything `conn` queued, in order.
fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    loop {
        let out = conn.output();
        if out.is_empty() {
            return wire;
        }
        wire.extend_from_slice(out);
        let n = out.len();
        conn.consume_output(n);
    }
}

/// Splits the first frame off `wire` and unmasks its payload by hand,
/// independently of the decoder: returns (opcode, key, payload).
fn split_masked_frame(wire: &mut &[u8]) -> (OpCode, [u8; 4], Vec<u8>) {
    let header = FrameHeader::decode(wire).unwrap().expect("a whole header");
    let key = header.mask.expect("client frames are masked");
    let start = header.header_len;
    let end = start + header.payload_len as usize;
    let payload = wire[start..end]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    *wire = &wire[end..];
    (header.opcode, key, payload)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn large_config() -> Config {
    Config {
        max_frame_size: 4 << 20,
        max_message_size: 4 << 20,
        max_buffered_amount: usize::MAX,
        ..Config::default()
    }
}

/// Every length the encoder treats differently: the 7-bit, 16-bit and
/// 64-bit length forms, a word and a vector either side, and more than
/// one copy block.
fn lengths() -> impl Iterator<Item = usize> {
    (0..=300).chain([
        1023,
        1024,
        1025,
        4095,
        4096,
        4097,
        65535,
        65536,
        65537,
        (1 << 20) + 3,
    ])
}

#[test]
fn masked_frames_carry_the_payload_at_every_length() {
    let mut client = Connection::open(Role::Client, large_config());
    let mut server = Connection::open(Role::Server, large_config());
    for len in lengths() {
        let data = pattern(len, len as u8);
        client.send_binary(&data).unwrap();
        client.send(Bytes::from(data.clone())).unwrap();
        let wire = drain(&mut client);
        let mut rest = &wire[..];
        for _ in 0..2 {
            let (opcode, _, payload) = split_masked_frame(&mut rest);
            assert_eq!(opcode, OpCode::Binary);
            assert!(payload == data, "len {len}: wrong payload on the wire");
        }
        assert!(rest.is_empty(), "len {len}: trailing bytes");
        server.receive(&wire);
        for _ in 0..2 {
            match server.next_event().unwrap() {
                Some(Event::Message(Message::Binary(got))) => {
                    assert!(got == data, "len {len}: server decoded something else")
                }
                other => panic!("len {len}: {other:?}"),
            }
        }
    }
}

#[test]
fn limits_are_clamped_to_what_one_allocation_can_hold() {
    let largest = isize::MAX as usize - MAX_HEADER_LEN;
    assert_eq!(addressable(usize::MAX), largest as u64);
    assert_eq!(addressable(largest + 1), largest as u64);
    assert_eq!(addressable(largest), largest as u64);
    assert_eq!(addressable(16 << 20), 16 << 20);
    // With no limit, a frame of the largest addressable length is
    // taken and its end computed without overflow; one byte more is
    // too big.
    let unlimited = Config {
        max_frame_size: usize::MAX,
        max_message_size: usize::MAX,
        ..Config::default()
    };
    for (len, fits) in [(largest as u64, true), (largest as u64 + 1, false)] {
        let mut conn = Connection::open(Role::Client, unlimited.clone());
        let mut header = vec![0x82, 0x7f];
        header.extend_from_slice(&len.to_be_bytes());
        conn.receive(&header);
        match conn.next_event() {
            Ok(None) if fits => {
                assert_eq!(conn.frame_remaining(), largest);
            }
            Err(Error::Protocol(ProtocolError::FrameTooBig { .. })) if !fits => {}
            other => panic!("len {len}: {other:?}"),
        }
    }
}

#[test]
fn receive_with_reuses_the_buffer_once_the_last_message_is_dropped() {
    let mut client = Connection::open(Role::Client, large_config());
    let mut server = Connection::open(Role::Server, large_config());
    let mut held = Vec::new();
    let mut last_ptr = None;
    for round in 0..4u8 {
        let data = pattern(1 << 20, round);
        client.send(Bytes::from(data.clone())).unwrap();
        let wire = drain(&mut client);
        // The header and a first piece arrive, then the rest of the
        // frame is read into the buffer `receive_with` hands out.
        server.receive(&wire[..1000]);
        assert_eq!(server.next_event().unwrap(), None);
        let ptr = server.receive_with(|tail| {
            tail.extend_from_slice(&wire[1000..]);
            tail.buf.as_ptr()
        });
        if round == 2 {
            // The previous message is still held: a new allocation.
            assert_ne!(Some(ptr), last_ptr);
        } else if round > 0 {
            assert_eq!(Some(ptr), last_ptr, "round {round}: not reused");
        }
        last_ptr = Some(ptr);
        match server.next_event().unwrap() {
            Some(Event::Message(Message::Binary(got))) => {
                assert!(got == data, "round {round}: wrong payload");
                // Round 1's message outlives round 2's read.
                if round == 1 {
                    held.push((got, data));
                }
            }
            other => panic!("round {round}: {other:?}"),
        }
        if round == 2 {
            let (got, data) = held.pop().unwrap();
            assert!(got == data, "a held message changed");
        }
    }
}

#[test]
fn unmasked_frames_carry_the_payload_at_every_length() {
    let mut server = Connection::open(Role::Server, large_config());
    let mut client = Connection::open(Role::Client, large_config());
    for len in lengths() {
        let data = pattern(len, len as u8);
        server.send_binary(&data).unwrap();
        server.send(Bytes::from(data.clone())).unwrap();
        client.receive(&drain(&mut server));
        for _ in 0..2 {
            match client.next_event().unwrap() {
                Some(Event::Message(Message::Binary(got))) => {
                    assert!(got == data, "len {len}: client decoded something else")
                }
                other => panic!("len {len}: {other:?}"),
            }
        }
    }
}

#[test]
fn frames_queued_behind_others_are_masked_right() {
    // Frames start at every offset in the queue, and the queue is
    // partly written between sends.
    let mut client = Connection::open(Role::Client, large_config());
    let mut sent = Vec::new();
    let mut wire = Vec::new();
    for (i, len) in lengths().enumerate() {
        let text: String = (0..len)
            .map(|j| (b'a' + ((i + j) % 26) as u8) as char)
            .collect();
        client.send_text(&text).unwrap();
        sent.push((OpCode::Text, text.into_bytes()));
        let ping = pattern(i % 126, i as u8);
        client.ping(&ping).unwrap();
        sent.push((OpCode::Ping, ping));
        let out = client.output();
        let n = out.len().min(i % 37);
        wire.extend_from_slice(&out[..n]);
        client.consume_output(n);
    }
    wire.extend(drain(&mut client));
    let mut rest = &wire[..];
    for (opcode, data) in &sent {
        let (got_opcode, _, payload) = split_masked_frame(&mut rest);
        assert_eq!(got_opcode, *opcode);
        assert!(payload == *data, "{opcode:?} of {} bytes", data.len());
    }
    assert!(rest.is_empty());
}

#[test]
fn every_frame_gets_a_fresh_key() {
    let mut keys = Vec::new();
    for _ in 0..2 {
        let mut client = Connection::open(Role::Client, Config::default());
        for len in [0, 5, 16, 200] {
            for _ in 0..50 {
                client.send_binary(&pattern(len, 1)).unwrap();
            }
        }
        client
            .send_fragment(MessageKind::Binary, b"a", false)
            .unwrap();
        client
            .send_fragment(MessageKind::Binary, b"b", true)
            .unwrap();
        client.pong(b"").unwrap();
        client.close(CloseCode::NORMAL, "").unwrap();
        let wire = drain(&mut client);
        let mut rest = &wire[..];
        while !rest.is_empty() {
            keys.push(split_masked_frame(&mut rest).1);
        }
    }
    assert_eq!(keys.len(), 2 * 204);
    // A repeat among 408 random 32-bit keys has odds of about 2e-5;
    // a key generator that repeats, restarts per connection, or
    // varies only some bytes fails.
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "a mask key repeated");
    for byte in 0..4 {
        let values: std::collections::HashSet<u8> = keys.iter().map(|k| k[byte]).collect();
        assert!(values.len() > 100, "key byte {byte} barely varies");
    }
}

/// A client and a server that agreed on permessage-deflate with `deflate`.
#[cfg(feature = "deflate")]
fn deflate_pair(deflate: crate::DeflateConfig) -> (Connection, Connection) {
    let config = Config {
        deflate: Some(deflate),
        ..Config::default()
    };
    let request = ClientRequest::new("ws://localhost/").unwrap();
    let mut client = Connection::client(request, config.clone()).unwrap();
    let mut server = Connection::server(config);
    server.receive(&drain(&mut client));
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.accept(crate::Accept::new()).unwrap();
    client.receive(&drain(&mut server));
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    assert!(client.compression_negotiated() && server.compression_negotiated());
    (client, server)
}

#[cfg(feature = "deflate")]
#[test]
fn shrink_buffers_releases_the_codec_only_without_context_takeover() {
    let text = "a message long enough to be compressed, and compressed it is".repeat(4);
    let allocated = |conn: &Connection| conn.deflate.as_ref().unwrap().allocated();
    for no_takeover in [false, true] {
        let (mut client, mut server) = deflate_pair(crate::DeflateConfig {
            server_no_context_takeover: no_takeover,
            client_no_context_takeover: no_takeover,
            ..crate::DeflateConfig::default()
        });
        // Nothing is allocated before the first message.
        assert_eq!(allocated(&client), (false, false));
        client.send_text(&text).unwrap();
        server.receive(&drain(&mut client));
        assert_eq!(
            server.next_event().unwrap(),
            Some(Event::Message(Message::from(text.as_str())))
        );
        assert!(allocated(&client).0);
        // An inflater without takeover is not kept past its message.
        assert_eq!(allocated(&server).1, !no_takeover);
        client.shrink_buffers();
        server.shrink_buffers();
        // With takeover the state is the context: kept.
        assert_eq!(allocated(&client).0, !no_takeover);
        assert_eq!(allocated(&server).1, !no_takeover);
    }
}
