//! Malformed input (RFC 6455 sections 5.2, 5.4, 5.5, 7.4, 8.1): every
//! violation is reported as the right [`ProtocolError`], and the close frame
//! the connection queues (parsed from its output) carries the right code.

mod common;

use common::*;
use rfc6455::{
    Bytes, CloseCode, Config, Connection, Error, Event, Message, ProtocolError, ReadyState, Role,
};

const BOTH: &[Role] = &[Role::Client, Role::Server];
const SERVER: &[Role] = &[Role::Server];
const CLIENT: &[Role] = &[Role::Client];

struct Case {
    name: String,
    /// The ends that must refuse this input.
    roles: &'static [Role],
    config: Config,
    /// The bytes, built for the receiving role.
    input: Box<dyn Fn(Role) -> Vec<u8>>,
    expected: ProtocolError,
    code: u16,
}

/// A frame towards `r` (masked when `r` is the server) with raw first byte.
fn raw_to(r: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = frame_to(r, true, 0, payload);
    f[0] = b0;
    f
}

fn close_with_code(r: Role, code: u16) -> Vec<u8> {
    frame_to(r, true, 0x8, &code.to_be_bytes())
}

fn small_frames() -> Config {
    Config {
        max_frame_size: 1024,
        ..Config::default()
    }
}

fn small_messages() -> Config {
    Config {
        max_message_size: 10,
        ..Config::default()
    }
}

macro_rules! case {
    ($name:expr, $roles:expr, $input:expr, $expected:expr, $code:expr) => {
        case!($name, $roles, Config::default(), $input, $expected, $code)
    };
    ($name:expr, $roles:expr, $config:expr, $input:expr, $expected:expr, $code:expr) => {
        Case {
            name: $name.to_string(),
            roles: $roles,
            config: $config,
            input: Box::new($input),
            expected: $expected,
            code: $code,
        }
    };
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        case!(
            "unmasked frame to a server",
            SERVER,
            |_| b"\x81\x05Hello".to_vec(),
            ProtocolError::UnmaskedClientFrame,
            1002
        ),
        case!(
            "masked frame to a client",
            CLIENT,
            |_| vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
            ProtocolError::MaskedServerFrame,
            1002
        ),
        case!(
            "RSV1",
            BOTH,
            |r| raw_to(r, 0xC1, b"x"),
            ProtocolError::ReservedBits(0b100),
            1002
        ),
        case!(
            "RSV2",
            BOTH,
            |r| raw_to(r, 0xA1, b"x"),
            ProtocolError::ReservedBits(0b010),
            1002
        ),
        case!(
            "RSV3",
            BOTH,
            |r| raw_to(r, 0x91, b"x"),
            ProtocolError::ReservedBits(0b001),
            1002
        ),
        case!(
            "RSV1-3 on a ping",
            BOTH,
            |r| raw_to(r, 0xF9, b""),
            ProtocolError::ReservedBits(0b111),
            1002
        ),
        case!(
            "ping with 126 bytes",
            BOTH,
            |r| frame_to(r, true, 0x9, &[b'p'; 126]),
            ProtocolError::ControlFrameTooLong,
            1002
        ),
        case!(
            "pong with 126 bytes",
            BOTH,
            |r| frame_to(r, true, 0xA, &[b'p'; 126]),
            ProtocolError::ControlFrameTooLong,
            1002
        ),
        case!(
            "close with 126 bytes",
            BOTH,
            |r| {
                let mut p = vec![0x03, 0xe8];
                p.extend_from_slice(&[b'r'; 124]);
                frame_to(r, true, 0x8, &p)
            },
            ProtocolError::ControlFrameTooLong,
            1002
        ),
        case!(
            "control frame with a 64-bit length",
            BOTH,
            |r| frame_to(r, true, 0x9, &[0; 70000]),
            ProtocolError::ControlFrameTooLong,
            1002
        ),
        case!(
            "fragmented ping",
            BOTH,
            |r| frame_to(r, false, 0x9, b"p"),
            ProtocolError::FragmentedControlFrame,
            1002
        ),
        case!(
            "fragmented pong",
            BOTH,
            |r| frame_to(r, false, 0xA, b"p"),
            ProtocolError::FragmentedControlFrame,
            1002
        ),
        case!(
            "fragmented close",
            BOTH,
            |r| frame_to(r, false, 0x8, b"\x03\xe8"),
            ProtocolError::FragmentedControlFrame,
            1002
        ),
        case!(
            "continuation without a start",
            BOTH,
            |r| frame_to(r, true, 0x0, b"x"),
            ProtocolError::UnexpectedContinuation,
            1002
        ),
        case!(
            "non-final continuation without a start",
            BOTH,
            |r| frame_to(r, false, 0x0, b"x"),
            ProtocolError::UnexpectedContinuation,
            1002
        ),
        case!(
            "continuation after a finished message",
            BOTH,
            |r| [
                frame_to(r, true, 0x1, b"done"),
                frame_to(r, true, 0x0, b"x")
            ]
            .concat(),
            ProtocolError::UnexpectedContinuation,
            1002
        ),
        case!(
            "text inside a fragmented text",
            BOTH,
            |r| [frame_to(r, false, 0x1, b"a"), frame_to(r, true, 0x1, b"b")].concat(),
            ProtocolError::ExpectedContinuation,
            1002
        ),
        case!(
            "binary inside a fragmented text",
            BOTH,
            |r| [frame_to(r, false, 0x1, b"a"), frame_to(r, false, 0x2, b"b")].concat(),
            ProtocolError::ExpectedContinuation,
            1002
        ),
        case!(
            "text inside a fragmented binary, after a ping",
            BOTH,
            |r| {
                [
                    frame_to(r, false, 0x2, b"a"),
                    frame_to(r, true, 0x9, b""),
                    frame_to(r, true, 0x1, b"b"),
                ]
                .concat()
            },
            ProtocolError::ExpectedContinuation,
            1002
        ),
        case!(
            "close payload of 1 byte",
            BOTH,
            |r| frame_to(r, true, 0x8, b"\x03"),
            ProtocolError::InvalidClosePayload,
            1002
        ),
        case!(
            "invalid UTF-8 in a text frame",
            BOTH,
            // Autobahn 6.3.1: valid up to an encoded surrogate (ed a0 80).
            |r| frame_to(
                r,
                true,
                0x1,
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
            ),
            ProtocolError::InvalidUtf8,
            1007
        ),
        case!(
            "text ending in the middle of a code point",
            BOTH,
            |r| frame_to(r, true, 0x1, b"euro \xe2\x82"),
            ProtocolError::InvalidUtf8,
            1007
        ),
        case!(
            "invalid UTF-8 across fragments",
            BOTH,
            |r| [
                frame_to(r, false, 0x1, b"ok \xe2"),
                frame_to(r, true, 0x0, b"\x28")
            ]
            .concat(),
            ProtocolError::InvalidUtf8,
            1007
        ),
        case!(
            "fragmented text ending in the middle of a code point",
            BOTH,
            |r| [
                frame_to(r, false, 0x1, b"\xf0\x9f"),
                frame_to(r, true, 0x0, b"\x98")
            ]
            .concat(),
            ProtocolError::InvalidUtf8,
            1007
        ),
        case!(
            "invalid UTF-8 in a close reason",
            BOTH,
            |r| frame_to(r, true, 0x8, b"\x03\xe8bye \xff"),
            ProtocolError::InvalidCloseReason,
            1007
        ),
        case!(
            "64-bit length with the top bit set",
            BOTH,
            |r| {
                let mut f = vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
                if r == Role::Server {
                    f[1] |= 0x80;
                    f.extend_from_slice(&TEST_KEY);
                }
                f
            },
            ProtocolError::InvalidLength,
            1002
        ),
        case!(
            "frame longer than max_frame_size (header only)",
            BOTH,
            small_frames(),
            |r| {
                let f = frame_to(r, true, 0x2, &[0; 1025]);
                f[..f.len() - 1025].to_vec()
            },
            ProtocolError::FrameTooBig {
                len: 1025,
                max: 1024
            },
            1009
        ),
        case!(
            "frame of 2^40 bytes (header only)",
            BOTH,
            |r| {
                let mut f = vec![0x81, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0];
                if r == Role::Server {
                    f[1] |= 0x80;
                    f.extend_from_slice(&TEST_KEY);
                }
                f
            },
            ProtocolError::FrameTooBig {
                len: 1 << 40,
                max: 16 << 20
            },
            1009
        ),
        case!(
            "single frame longer than max_message_size",
            BOTH,
            small_messages(),
            |r| {
                let f = frame_to(r, true, 0x1, b"eleven byte");
                f[..f.len() - 11].to_vec()
            },
            ProtocolError::MessageTooBig { max: 10 },
            1009
        ),
        case!(
            "fragments exceeding max_message_size (second header only)",
            BOTH,
            small_messages(),
            |r| {
                let second = frame_to(r, true, 0x0, b"678901");
                [
                    frame_to(r, false, 0x2, b"12345"),
                    second[..second.len() - 6].to_vec(),
                ]
                .concat()
            },
            ProtocolError::MessageTooBig { max: 10 },
            1009
        ),
    ];
    for op in (0x3u8..=0x7).chain(0xB..=0xF) {
        cases.push(Case {
            name: format!("reserved opcode {op:#x}"),
            roles: BOTH,
            config: Config::default(),
            input: Box::new(move |r| raw_to(r, 0x80 | op, b"x")),
            expected: ProtocolError::ReservedOpcode(op),
            code: 1002,
        });
    }
    cases
}

/// Close codes that may not appear on the wire, each refused with 1002.
const BAD_CLOSE_CODES: &[u16] = &[
    0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
];

fn check_failure(
    conn: &mut Connection,
    err: Error,
    expected: &ProtocolError,
    code: u16,
    what: &str,
) {
    match &err {
        Error::Protocol(e) => assert_eq!(e, expected, "{what}"),
        other => panic!("{what}: expected {expected:?}, got {other:?}"),
    }
    assert_eq!(err.close_code(), Some(CloseCode::from(code)), "{what}");
    assert_eq!(conn.ready_state(), ReadyState::Closed, "{what}");
    // The output ends with exactly one close frame carrying the code
    // (after any pong the connection answered earlier pings with).
    let frames = parse_frames(&drain(conn));
    let (close, before) = frames
        .split_last()
        .unwrap_or_else(|| panic!("{what}: no output"));
    assert!(before.iter().all(|f| f.opcode == 0xA), "{what}: {frames:?}");
    assert_eq!(
        (close.opcode, close.fin, close.rsv),
        (0x8, true, 0),
        "{what}"
    );
    assert_eq!(
        close.mask.is_some(),
        conn.role() == Role::Client,
        "{what}: mask bit"
    );
    assert_eq!(close.close_code(), Some(code), "{what}");
    assert!(close.payload.len() <= 125, "{what}");
    let _ = close.close_reason();
    // The connection is finished: no more events, no more sends, and the
    // transport may be closed at once, by either end.
    assert!(matches!(conn.next_event(), Ok(None)), "{what}");
    assert!(
        matches!(conn.send_text("x"), Err(Error::NotOpen(ReadyState::Closed))),
        "{what}"
    );
    assert!(conn.should_close_transport(), "{what}");
}

#[test]
fn malformed_input_table() {
    let mut checked = 0;
    for case in cases() {
        for &role in case.roles {
            let input = (case.input)(role);
            let what = format!("{} (to {role:?})", case.name);

            // Fed whole.
            let mut conn = Connection::open(role, case.config.clone());
            conn.receive(&input);
            let (evs, err) = events_until_error(&mut conn);
            let err = err.unwrap_or_else(|| panic!("{what}: no error, events {evs:?}"));
            assert!(
                evs.iter()
                    .all(|e| matches!(e, Event::Message(_) | Event::Ping(_))),
                "{what}: {evs:?}"
            );
            check_failure(&mut conn, err, &case.expected, case.code, &what);

            // Fed one byte at a time: the same error, no later than the last
            // byte (header violations fail as soon as the header is read).
            let mut conn = Connection::open(role, case.config.clone());
            let mut failed_at = None;
            for (i, b) in input.iter().enumerate() {
                conn.receive(std::slice::from_ref(b));
                let (_, err) = events_until_error(&mut conn);
                if let Some(err) = err {
                    failed_at = Some(i + 1);
                    check_failure(&mut conn, err, &case.expected, case.code, &what);
                    break;
                }
            }
            assert!(failed_at.is_some(), "{what}: byte-at-a-time never failed");
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked}");
}

#[test]
fn invalid_close_codes_are_refused_with_1002() {
    for &role in BOTH {
        for &code in BAD_CLOSE_CODES {
            let mut conn = Connection::open(role, Config::default());
            conn.receive(&close_with_code(role, code));
            let err = conn.next_event().unwrap_err();
            check_failure(
                &mut conn,
                err,
                &ProtocolError::InvalidCloseCode(code),
                1002,
                &format!("close code {code} to {role:?}"),
            );
        }
    }
}

#[test]
fn valid_close_codes_are_accepted_and_echoed() {
    for &role in BOTH {
        for code in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
        ] {
            let mut conn = Connection::open(role, Config::default());
            conn.receive(&close_with_code(role, code));
            let evs = events(&mut conn);
            assert_eq!(
                evs,
                [Event::Close(Some(rfc6455::CloseFrame::new(
                    code.into(),
                    ""
                )))],
                "{code}"
            );
            let reply = assert_single_close(&mut conn, code);
            assert_eq!(reply.payload.len(), 2);
        }
    }
}

#[test]
fn control_frame_of_exactly_125_bytes_is_fine() {
    for &role in BOTH {
        let payload = [b'z'; 125];
        let mut conn = Connection::open(role, Config::default());
        conn.receive(&frame_to(role, true, 0x9, &payload));
        assert_eq!(
            events(&mut conn),
            [Event::Ping(Bytes::copy_from_slice(&payload))]
        );
        let pong = parse_frames(&drain(&mut conn));
        assert_eq!(pong.len(), 1);
        assert_eq!((pong[0].opcode, &pong[0].payload[..]), (0xA, &payload[..]));
    }
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    for &role in BOTH {
        // A text frame declaring 100 bytes, of which only the first 4 arrive,
        // the fourth being a byte that never appears in UTF-8.
        let mut payload = b"abc\xff".to_vec();
        payload.resize(100, b'x');
        let frame = frame_to(role, true, 0x1, &payload);
        let header_len = frame.len() - 100;
        let mut conn = Connection::open(role, Config::default());
        conn.receive(&frame[..header_len + 3]);
        assert_eq!(conn.next_event().unwrap(), None, "valid so far");
        conn.receive(&frame[header_len + 3..header_len + 4]);
        let err = conn.next_event().unwrap_err();
        check_failure(
            &mut conn,
            err,
            &ProtocolError::InvalidUtf8,
            1007,
            "partial text",
        );

        // The same inside a continuation frame not yet complete.
        let mut cont_payload = b"\xc0".to_vec();
        cont_payload.resize(50, b'x');
        let cont = frame_to(role, false, 0x0, &cont_payload);
        let first = frame_to(role, false, 0x1, b"start");
        let mut conn = Connection::open(role, Config::default());
        conn.receive(&first);
        conn.receive(&cont[..cont.len() - 49]);
        let err = conn.next_event().unwrap_err();
        check_failure(
            &mut conn,
            err,
            &ProtocolError::InvalidUtf8,
            1007,
            "partial continuation",
        );

        // A code point split between fragments and between reads of the
        // same frame is not an error.
        let text = "a€b😀c";
        let bytes = text.as_bytes();
        let f1 = frame_to(role, false, 0x1, &bytes[..2]); // "a" + first byte of €
        let f2 = frame_to(role, true, 0x0, &bytes[2..]);
        let wire = [f1, f2].concat();
        let mut conn = Connection::open(role, Config::default());
        let mut evs = Vec::new();
        for b in &wire {
            conn.receive(std::slice::from_ref(b));
            evs.extend(events(&mut conn));
        }
        assert_eq!(evs, [Event::Message(Message::from(text))]);
    }
}

#[test]
fn frame_too_big_is_refused_at_the_header_and_nothing_is_buffered() {
    for &role in BOTH {
        let config = Config {
            max_frame_size: 1 << 20,
            max_message_size: 64 << 20,
            ..Config::default()
        };
        let mut conn = Connection::open(role, config);
        // 2^20 + 1 bytes declared: 127-form length.
        let mut header = vec![0x82, 0x7f];
        header.extend_from_slice(&((1u64 << 20) + 1).to_be_bytes());
        if role == Role::Server {
            header[1] |= 0x80;
            header.extend_from_slice(&TEST_KEY);
        }
        conn.receive(&header);
        let err = conn.next_event().unwrap_err();
        check_failure(
            &mut conn,
            err,
            &ProtocolError::FrameTooBig {
                len: (1 << 20) + 1,
                max: 1 << 20,
            },
            1009,
            "frame too big",
        );
        // Whatever the peer still sends is dropped.
        conn.receive(&vec![0u8; 2 << 20]);
        assert!(
            conn.buffer_capacity() < 64 * 1024,
            "{}",
            conn.buffer_capacity()
        );
    }
}

#[test]
fn message_exactly_at_the_limits_is_fine() {
    for &role in BOTH {
        let config = Config {
            max_frame_size: 8,
            max_message_size: 10,
            ..Config::default()
        };
        let mut conn = Connection::open(role, config);
        let wire = [
            frame_to(role, false, 0x2, b"12345678"),
            frame_to(role, true, 0x9, b"ping"),
            frame_to(role, true, 0x0, b"90"),
        ]
        .concat();
        conn.receive(&wire);
        assert_eq!(
            events(&mut conn),
            [
                Event::Ping(Bytes::from_static(b"ping")),
                Event::Message(Message::from(b"1234567890".to_vec()))
            ]
        );
    }
}

#[test]
fn a_valid_message_before_a_bad_frame_is_delivered_first() {
    for &role in BOTH {
        let wire = [
            frame_to(role, true, 0x1, b"Hello"),
            frame_to(role, true, 0x9, b"p"),
            frame_to(role, false, 0x2, b"par"),
            frame_to(role, true, 0x0, b"ts"),
            raw_to(role, 0x83, b"bad"),
            frame_to(role, true, 0x1, b"never"),
        ]
        .concat();
        let mut conn = Connection::open(role, Config::default());
        conn.receive(&wire);
        assert_eq!(
            conn.next_event().unwrap(),
            Some(Event::Message(Message::from("Hello")))
        );
        assert_eq!(
            conn.next_event().unwrap(),
            Some(Event::Ping(Bytes::from_static(b"p")))
        );
        assert_eq!(
            conn.next_event().unwrap(),
            Some(Event::Message(Message::from(b"parts".to_vec())))
        );
        let err = conn.next_event().unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::ReservedOpcode(3))),
            "{err}"
        );
        // Output: the automatic pong, then the close frame.
        let frames = parse_frames(&drain(&mut conn));
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!((frames[0].opcode, &frames[0].payload[..]), (0xA, &b"p"[..]));
        assert_eq!(frames[1].opcode, 0x8);
        assert_eq!(frames[1].close_code(), Some(1002));
        assert!(matches!(conn.next_event(), Ok(None)));
    }
}

#[test]
fn violation_while_closing_sends_no_second_close() {
    for &role in BOTH {
        let mut conn = Connection::open(role, Config::default());
        conn.close(CloseCode::NORMAL, "bye").unwrap();
        let ours = assert_single_close(&mut conn, 1000);
        assert_eq!(ours.close_reason(), "bye");
        conn.receive(&frame_to(role, true, 0x0, b"stray"));
        let err = conn.next_event().unwrap_err();
        assert!(matches!(
            err,
            Error::Protocol(ProtocolError::UnexpectedContinuation)
        ));
        assert_eq!(conn.ready_state(), ReadyState::Closed);
        assert_eq!(
            conn.buffered_amount(),
            0,
            "only one close frame is ever sent"
        );
    }
}

#[test]
fn violations_reported_through_a_real_handshake() {
    // Same checks after a real opening handshake, so the frame decoder sees
    // input that follows a parsed head in the same buffer.
    let (mut client, mut server) = default_pair();
    server.receive(b"\x81\x05Hello"); // unmasked, towards the server
    let err = server.next_event().unwrap_err();
    check_failure(
        &mut server,
        err,
        &ProtocolError::UnmaskedClientFrame,
        1002,
        "server",
    );
    client.receive(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    let err = client.next_event().unwrap_err();
    check_failure(
        &mut client,
        err,
        &ProtocolError::MaskedServerFrame,
        1002,
        "client",
    );
}
