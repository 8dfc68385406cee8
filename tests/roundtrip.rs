//! Encode/decode round trips over every length form, in both directions,
//! whatever the read boundaries; masking rules (RFC 6455 sections 5.2, 5.3).

mod common;

use std::io::IoSlice;

use common::*;
use rfc6455::{Bytes, Config, Connection, Event, Message, MessageKind, Role};

const LENGTHS: &[usize] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    125,
    126,
    127,
    1000,
    65535,
    65536,
    65537,
    (3 << 20) + 7,
];

/// The expected length form of the second header byte.
fn len_form(len: usize) -> u8 {
    match len {
        0..=125 => 0,
        126..=65535 => 126,
        _ => 127,
    }
}

/// UTF-8 text of exactly `len` bytes, mixing 1- to 4-byte code points.
fn text_of_len(len: usize) -> String {
    let pattern = ['a', 'é', '€', '😀', 'z', 'ß'];
    let mut s = String::with_capacity(len);
    let mut i = 0;
    while s.len() < len {
        let c = pattern[i % pattern.len()];
        i += 1;
        if s.len() + c.len_utf8() <= len {
            s.push(c);
        } else {
            s.push('x');
        }
    }
    assert_eq!(s.len(), len);
    s
}

fn pair(sender: Role) -> (Connection, Connection) {
    let receiver = match sender {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    (
        Connection::open(sender, Config::default()),
        Connection::open(receiver, Config::default()),
    )
}

/// Checks the wire form of one frame of `payload_len` bytes sent by `role`.
fn check_wire(frame: &WireFrame, role: Role, opcode: u8, payload: &[u8]) {
    assert!(frame.fin);
    assert_eq!(frame.rsv, 0);
    assert_eq!(frame.opcode, opcode);
    assert_eq!(
        frame.len_form,
        len_form(payload.len()),
        "len {}",
        payload.len()
    );
    assert_eq!(
        frame.mask.is_some(),
        role == Role::Client,
        "mask bit from {role:?}"
    );
    assert!(
        frame.payload == payload,
        "payload of {} bytes differs",
        payload.len()
    );
}

#[test]
fn all_length_forms_both_directions_fed_whole_and_in_random_splits() {
    let mut rng = Rng::new(6455);
    for &sender_role in &[Role::Client, Role::Server] {
        for &len in LENGTHS {
            let binary = rng.bytes(len);
            let text = text_of_len(len);
            let (mut tx, _) = pair(sender_role);
            tx.send_binary(&binary).unwrap();
            tx.send_text(&text).unwrap();
            tx.send(Message::from(binary.clone())).unwrap();
            tx.send(Message::from(text.clone())).unwrap();
            let wire = drain(&mut tx);
            let header = if sender_role == Role::Client { 4 } else { 0 }
                + match len_form(len) {
                    0 => 2,
                    126 => 4,
                    _ => 10,
                };
            assert_eq!(wire.len(), 4 * (header + len), "len {len}");
            let frames = parse_frames(&wire);
            assert_eq!(frames.len(), 4);
            check_wire(&frames[0], sender_role, 0x2, &binary);
            check_wire(&frames[1], sender_role, 0x1, text.as_bytes());
            check_wire(&frames[2], sender_role, 0x2, &binary);
            check_wire(&frames[3], sender_role, 0x1, text.as_bytes());

            let expected = vec![
                Event::Message(Message::Binary(Bytes::from(binary.clone()))),
                Event::Message(Message::from(text.as_str())),
                Event::Message(Message::Binary(Bytes::from(binary.clone()))),
                Event::Message(Message::from(text.as_str())),
            ];

            // Whole.
            let (_, mut rx) = pair(sender_role);
            rx.receive(&wire);
            assert!(events(&mut rx) == expected, "whole, len {len}");

            // Random splits, small and large pieces.
            for max_piece in [7, 1000, 70_000] {
                let (_, mut rx) = pair(sender_role);
                let evs = feed_in_pieces(&mut rx, &wire, &mut || rng.range(1, max_piece));
                assert!(evs == expected, "splits up to {max_piece}, len {len}");
            }

            // One byte at a time, for the smaller lengths.
            if len <= 65537 {
                let (_, mut rx) = pair(sender_role);
                let evs = feed_in_pieces(&mut rx, &wire, &mut || 1);
                assert!(evs == expected, "byte at a time, len {len}");
            }
        }
    }
}

#[test]
fn read_buf_and_commit_path_round_trips() {
    let mut rng = Rng::new(7);
    for &sender_role in &[Role::Client, Role::Server] {
        let (mut tx, mut rx) = pair(sender_role);
        let payloads: Vec<Vec<u8>> = LENGTHS.iter().map(|&n| rng.bytes(n)).collect();
        for p in &payloads {
            tx.send_binary(p).unwrap();
        }
        let wire = drain(&mut tx);
        let mut rest = &wire[..];
        let mut got = Vec::new();
        while !rest.is_empty() {
            let buf = rx.read_buf();
            assert!(buf.len() >= 4096);
            let n = buf.len().min(rest.len()).min(rng.range(1, 300_000));
            buf[..n].copy_from_slice(&rest[..n]);
            rx.commit(n);
            rest = &rest[n..];
            got.extend(events(&mut rx));
        }
        let expected: Vec<Event> = payloads
            .iter()
            .map(|p| Event::Message(Message::Binary(Bytes::from(p.clone()))))
            .collect();
        assert!(got == expected);
    }
}

#[test]
fn rfc_examples_on_the_wire() {
    // Section 5.7.
    let mut server = Connection::open(Role::Server, Config::default());
    server.send_text("Hello").unwrap();
    assert_eq!(drain(&mut server), b"\x81\x05Hello");
    server.ping(b"Hello").unwrap();
    assert_eq!(drain(&mut server), b"\x89\x05Hello");
    server.send_binary(&[0xAB; 256]).unwrap();
    let out = drain(&mut server);
    assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
    assert_eq!(out.len(), 4 + 256);
    server.send_binary(&[0xCD; 65536]).unwrap();
    let out = drain(&mut server);
    assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(out.len(), 10 + 65536);

    let mut client = Connection::open(Role::Client, Config::default());
    client.receive(b"\x81\x05Hello\x01\x03Hel\x80\x02lo\x8a\x05Hello");
    assert_eq!(
        events(&mut client),
        [
            Event::Message(Message::from("Hello")),
            Event::Message(Message::from("Hello")),
            Event::Pong(Bytes::from_static(b"Hello")),
        ]
    );

    let mut server = Connection::open(Role::Server, Config::default());
    server.receive(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(
        events(&mut server),
        [Event::Message(Message::from("Hello"))]
    );
    // A masked ping "Hello" is answered with an unmasked pong "Hello".
    server.receive(&[
        0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(
        events(&mut server),
        [Event::Ping(Bytes::from_static(b"Hello"))]
    );
    assert_eq!(drain(&mut server), b"\x8a\x05Hello");
}

#[test]
fn client_masks_every_frame_with_a_fresh_key() {
    let mut client = Connection::open(Role::Client, Config::default());
    client.send_text("Hello").unwrap();
    let first = drain(&mut client);
    client.send_text("Hello").unwrap();
    let second = drain(&mut client);
    assert_eq!(first.len(), 11);
    assert_eq!(first[..2], [0x81, 0x85]);
    assert_eq!(second[..2], [0x81, 0x85]);
    assert_ne!(
        first, second,
        "two identical sends must not produce identical bytes"
    );

    // Every kind of frame a client sends is masked, and the keys vary.
    client.send_binary(b"bin").unwrap();
    client.ping(b"ping").unwrap();
    client.pong(b"pong").unwrap();
    client
        .send_fragment(MessageKind::Text, b"fr", false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, b"ag", true)
        .unwrap();
    for _ in 0..16 {
        client.send_text("same").unwrap();
    }
    client.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    let frames = parse_frames(&drain(&mut client));
    assert_eq!(frames.len(), 6 + 16);
    assert!(frames.iter().all(|f| f.mask.is_some()), "{frames:?}");
    let keys: std::collections::HashSet<[u8; 4]> = frames.iter().map(|f| f.mask.unwrap()).collect();
    assert!(
        keys.len() > 16,
        "keys repeat: {} distinct of {}",
        keys.len(),
        frames.len()
    );
    assert_eq!(frames[0].payload, b"bin");
    assert_eq!(frames[1].payload, b"ping");
    assert_eq!(frames[2].payload, b"pong");
    assert_eq!(frames.last().unwrap().payload, b"\x03\xe8");
}

#[test]
fn server_never_masks() {
    let mut server = Connection::open(Role::Server, Config::default());
    server.send_text("t").unwrap();
    server.send_binary(&[1; 200]).unwrap();
    server.send(Message::from(vec![2u8; 70_000])).unwrap(); // large: queued by reference
    server.ping(b"p").unwrap();
    server.pong(b"q").unwrap();
    server
        .send_fragment(MessageKind::Binary, b"a", false)
        .unwrap();
    server
        .send_fragment(MessageKind::Binary, b"b", true)
        .unwrap();
    server.close(rfc6455::CloseCode::NORMAL, "bye").unwrap();
    let wire = drain(&mut server);
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 8);
    for f in &frames {
        assert_eq!(f.mask, None, "{:?}", f.opcode);
    }
    assert_eq!(wire[1] & 0x80, 0);
}

#[test]
fn large_shared_send_keeps_order_and_io_slices_cover_everything() {
    let mut server = Connection::open(Role::Server, Config::default());
    let big = Bytes::from(vec![7u8; 100_000]);
    server.send_text("before").unwrap();
    server.send(Message::Binary(big.clone())).unwrap();
    server.send_text("after").unwrap();
    let expected_len = 8 + (10 + 100_000) + 7;
    assert_eq!(server.buffered_amount(), expected_len);

    let mut slices = [IoSlice::new(&[]); 8];
    let n = server.output_io_slices(&mut slices);
    let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.to_vec()).collect();
    assert_eq!(joined.len(), expected_len);

    let wire = drain(&mut server);
    assert_eq!(wire, joined);
    let mut client = Connection::open(Role::Client, Config::default());
    client.receive(&wire);
    assert_eq!(
        events(&mut client),
        [
            Event::Message(Message::from("before")),
            Event::Message(Message::Binary(big)),
            Event::Message(Message::from("after")),
        ]
    );
}

#[test]
fn partial_writes_of_the_output_lose_nothing() {
    // Consume the output a few bytes at a time, as a short write would.
    let mut rng = Rng::new(99);
    for &sender_role in &[Role::Client, Role::Server] {
        let (mut tx, mut rx) = pair(sender_role);
        let big = rng.bytes(40_000);
        tx.send_text("one").unwrap();
        tx.send(Message::from(big.clone())).unwrap();
        tx.send_text("two").unwrap();
        let mut wire = Vec::new();
        while tx.buffered_amount() > 0 {
            let before = tx.buffered_amount();
            let chunk = tx.output();
            let n = chunk.len().min(rng.range(1, 5000));
            wire.extend_from_slice(&chunk[..n]);
            tx.consume_output(n);
            assert_eq!(tx.buffered_amount(), before - n);
        }
        rx.receive(&wire);
        assert_eq!(
            events(&mut rx),
            [
                Event::Message(Message::from("one")),
                Event::Message(Message::from(big)),
                Event::Message(Message::from("two")),
            ]
        );
    }
}
