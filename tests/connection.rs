//! An in-memory client core against a server core: messages, fragments,
//! control frames, the close handshake, ready states, and send-side limits.

mod common;

use common::*;
use rfc6455::{
    Accept, Bytes, ClientRequest, CloseCode, CloseFrame, Config, Connection, Error, Event, Message,
    MessageKind, ReadyState, Role,
};

fn close_event(code: u16, reason: &str) -> Event {
    Event::Close(Some(CloseFrame::new(code.into(), reason)))
}

#[test]
fn handshake_then_messages_both_ways() {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/chat")
            .unwrap()
            .protocol("chat"),
        Config::default(),
    )
    .unwrap();
    let mut server = Connection::server(Config::default());
    assert_eq!(client.ready_state(), ReadyState::Connecting);
    assert_eq!(server.ready_state(), ReadyState::Connecting);
    // Nothing can be sent before the handshake completes.
    assert!(matches!(
        client.send_text("early"),
        Err(Error::NotOpen(ReadyState::Connecting))
    ));
    assert!(matches!(
        server.send_text("early"),
        Err(Error::NotOpen(ReadyState::Connecting))
    ));
    assert_eq!(server.buffered_amount(), 0);

    pump(&mut client, &mut server);
    let evs = events(&mut server);
    let [Event::Request(req)] = &evs[..] else {
        panic!("{evs:?}")
    };
    assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat"]);
    assert_eq!(server.ready_state(), ReadyState::Connecting);
    server.accept(Accept::new().protocol("chat")).unwrap();
    assert_eq!(server.ready_state(), ReadyState::Open);
    // The server may send right away, in the same write as the 101.
    server.send_text("welcome").unwrap();
    pump(&mut server, &mut client);
    let evs = events(&mut client);
    assert!(
        matches!(&evs[0], Event::Open(r) if r.protocol() == Some("chat")),
        "{evs:?}"
    );
    assert_eq!(evs[1..], [Event::Message(Message::from("welcome"))]);
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(client.protocol(), Some("chat"));

    client.send_text("héllo").unwrap();
    client.send_binary(&[0, 1, 2, 255]).unwrap();
    client.send(Message::from("via send")).unwrap();
    client.send(Bytes::from_static(b"\x00bytes")).unwrap();
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [
            Event::Message(Message::from("héllo")),
            Event::Message(Message::from(vec![0, 1, 2, 255])),
            Event::Message(Message::from("via send")),
            Event::Message(Message::Binary(Bytes::from_static(b"\x00bytes"))),
        ]
    );

    server.send_binary(b"").unwrap();
    server.send_text("").unwrap();
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        [
            Event::Message(Message::from(Vec::new())),
            Event::Message(Message::from("")),
        ]
    );
}

#[test]
fn echo_without_copy() {
    let (mut client, mut server) = default_pair();
    client.send_text("echo me").unwrap();
    pump(&mut client, &mut server);
    let Some(Event::Message(msg)) = server.next_event().unwrap() else {
        panic!()
    };
    server.send(msg).unwrap();
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        [Event::Message(Message::from("echo me"))]
    );
}

#[test]
fn fragmented_send_is_reassembled() {
    for sender in [Role::Client, Role::Server] {
        let (mut client, mut server) = default_pair();
        let (tx, rx) = match sender {
            Role::Client => (&mut client, &mut server),
            Role::Server => (&mut server, &mut client),
        };
        // "€" is split between fragments: allowed, the whole is valid.
        let text = "hello €uro";
        let b = text.as_bytes();
        tx.send_fragment(MessageKind::Text, &b[..3], false).unwrap();
        tx.send_fragment(MessageKind::Text, &b[3..7], false)
            .unwrap();
        tx.send_fragment(MessageKind::Text, &[], false).unwrap();
        tx.send_fragment(MessageKind::Text, &b[7..], true).unwrap();
        tx.send_fragment(MessageKind::Binary, b"bi", false).unwrap();
        tx.send_fragment(MessageKind::Binary, b"nary", true)
            .unwrap();
        tx.send_fragment(MessageKind::Binary, b"single", true)
            .unwrap();

        let wire = drain(tx);
        let frames = parse_frames(&wire);
        let shape: Vec<(u8, bool)> = frames.iter().map(|f| (f.opcode, f.fin)).collect();
        assert_eq!(
            shape,
            [
                (0x1, false),
                (0x0, false),
                (0x0, false),
                (0x0, true),
                (0x2, false),
                (0x0, true),
                (0x2, true)
            ]
        );
        rx.receive(&wire);
        assert_eq!(
            events(rx),
            [
                Event::Message(Message::from(text)),
                Event::Message(Message::from(b"binary".to_vec())),
                Event::Message(Message::from(b"single".to_vec())),
            ]
        );
    }
}

#[test]
fn fragmented_send_rules() {
    let (mut client, _) = default_pair();
    // Invalid UTF-8 is refused and nothing is queued.
    assert!(matches!(
        client.send_fragment(MessageKind::Text, b"\xff", false),
        Err(Error::InvalidOutgoingUtf8)
    ));
    assert_eq!(client.buffered_amount(), 0);
    // A text that ends inside a code point is refused at the final fragment.
    client
        .send_fragment(MessageKind::Text, b"\xe2\x82", false)
        .unwrap();
    let queued = client.buffered_amount();
    assert!(matches!(
        client.send_fragment(MessageKind::Text, b"", true),
        Err(Error::InvalidOutgoingUtf8)
    ));
    assert_eq!(client.buffered_amount(), queued);
    // A different kind, or a whole message, cannot interrupt.
    assert!(matches!(
        client.send_fragment(MessageKind::Binary, b"x", true),
        Err(Error::FragmentOrder(_))
    ));
    assert!(matches!(
        client.send_text("x"),
        Err(Error::FragmentOrder(_))
    ));
    assert!(matches!(
        client.send_binary(b"x"),
        Err(Error::FragmentOrder(_))
    ));
    assert!(matches!(
        client.send(Message::from("x")),
        Err(Error::FragmentOrder(_))
    ));
    assert_eq!(client.buffered_amount(), queued);
    // Control frames can.
    client.ping(b"mid").unwrap();
    // Finishing the code point completes the message.
    client
        .send_fragment(MessageKind::Text, b"\xac", true)
        .unwrap();
    client.send_text("next").unwrap();
    let frames = parse_frames(&drain(&mut client));
    let shape: Vec<(u8, bool)> = frames.iter().map(|f| (f.opcode, f.fin)).collect();
    assert_eq!(shape, [(0x1, false), (0x9, true), (0x0, true), (0x1, true)]);
}

#[test]
fn control_frames_between_fragments() {
    let (mut client, mut server) = default_pair();
    client
        .send_fragment(MessageKind::Text, b"one ", false)
        .unwrap();
    client.ping(b"p1").unwrap();
    client
        .send_fragment(MessageKind::Text, b"two ", false)
        .unwrap();
    client.pong(b"unsolicited").unwrap();
    client.ping(b"p2").unwrap();
    client
        .send_fragment(MessageKind::Text, b"three", true)
        .unwrap();
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [
            Event::Ping(Bytes::from_static(b"p1")),
            Event::Pong(Bytes::from_static(b"unsolicited")),
            Event::Ping(Bytes::from_static(b"p2")),
            Event::Message(Message::from("one two three")),
        ]
    );
    // Both pings were answered, in order, unmasked.
    let out = drain(&mut server);
    assert_eq!(out, b"\x8a\x02p1\x8a\x02p2");
    client.receive(&out);
    assert_eq!(
        events(&mut client),
        [
            Event::Pong(Bytes::from_static(b"p1")),
            Event::Pong(Bytes::from_static(b"p2")),
        ]
    );

    // A close between fragments ends the connection; the partial message is
    // never delivered.
    let (mut client, mut server) = default_pair();
    client
        .send_fragment(MessageKind::Binary, b"part", false)
        .unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    pump(&mut client, &mut server);
    assert_eq!(events(&mut server), [close_event(1000, "")]);
}

#[test]
fn ping_gets_an_automatic_pong() {
    let (mut client, mut server) = default_pair();
    client.ping(b"abc").unwrap();
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [Event::Ping(Bytes::from_static(b"abc"))]
    );
    assert_eq!(server.output(), b"\x8a\x03abc");
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        [Event::Pong(Bytes::from_static(b"abc"))]
    );

    server.ping(b"").unwrap();
    pump(&mut server, &mut client);
    assert_eq!(events(&mut client), [Event::Ping(Bytes::new())]);
    let pong = parse_frames(&drain(&mut client));
    assert_eq!(pong.len(), 1);
    assert_eq!((pong[0].opcode, pong[0].payload.len()), (0xA, 0));
    assert!(pong[0].mask.is_some());
}

#[test]
fn auto_pong_off_leaves_the_answer_to_the_application() {
    let off = Config {
        auto_pong: false,
        ..Config::default()
    };
    let (mut client, mut server) = open_pair(off.clone(), off);
    client.ping(b"abc").unwrap();
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [Event::Ping(Bytes::from_static(b"abc"))]
    );
    assert_eq!(server.buffered_amount(), 0, "no automatic pong");
    server.pong(b"abc").unwrap();
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        [Event::Pong(Bytes::from_static(b"abc"))]
    );

    server.ping(b"x").unwrap();
    pump(&mut server, &mut client);
    assert_eq!(events(&mut client), [Event::Ping(Bytes::from_static(b"x"))]);
    assert_eq!(client.buffered_amount(), 0);
}

/// Runs a full close handshake started by `initiator`, recording the ready
/// states of both ends at each step.
fn close_handshake(initiator: Role, code: CloseCode, reason: &str) {
    let mut client =
        Connection::client(ClientRequest::new("ws://h/").unwrap(), Config::default()).unwrap();
    let mut server = Connection::server(Config::default());
    let mut client_states = vec![client.ready_state()];
    let mut server_states = vec![server.ready_state()];
    let mut record = |c: &Connection, s: &Connection| {
        if client_states.last() != Some(&c.ready_state()) {
            client_states.push(c.ready_state());
        }
        if server_states.last() != Some(&s.ready_state()) {
            server_states.push(s.ready_state());
        }
    };

    pump(&mut client, &mut server);
    assert!(matches!(events(&mut server)[..], [Event::Request(_)]));
    record(&client, &server);
    server.accept(Accept::new()).unwrap();
    record(&client, &server);
    pump(&mut server, &mut client);
    assert!(matches!(events(&mut client)[..], [Event::Open(_)]));
    record(&client, &server);

    let (init, resp) = match initiator {
        Role::Client => (&mut client, &mut server),
        Role::Server => (&mut server, &mut client),
    };
    init.close(code, reason).unwrap();
    assert_eq!(init.ready_state(), ReadyState::Closing);
    let sent = parse_frames(init.output());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].close_code(), Some(code.as_u16()));
    assert_eq!(sent[0].close_reason(), reason);
    assert_eq!(sent[0].mask.is_some(), initiator == Role::Client);
    pump(init, resp);
    assert_eq!(events(resp), [close_event(code.as_u16(), reason)]);
    assert_eq!(resp.ready_state(), ReadyState::Closed);
    // The reply echoes the code and the reason.
    let reply = parse_frames(resp.output());
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0].close_code(), Some(code.as_u16()));
    assert_eq!(reply[0].close_reason(), reason);
    assert_eq!(reply[0].mask.is_some(), initiator == Role::Server);
    let (c, s) = match initiator {
        Role::Client => (&*init, &*resp),
        Role::Server => (&*resp, &*init),
    };
    record(c, s);
    pump(resp, init);
    assert_eq!(events(init), [close_event(code.as_u16(), reason)]);
    assert_eq!(init.ready_state(), ReadyState::Closed);
    assert_eq!(
        init.buffered_amount(),
        0,
        "the initiator sends nothing more"
    );
    record(&client, &server);

    let (init_states, resp_states) = match initiator {
        Role::Client => (&client_states, &server_states),
        Role::Server => (&server_states, &client_states),
    };
    use ReadyState::*;
    assert_eq!(
        init_states[..],
        [Connecting, Open, Closing, Closed],
        "{initiator:?} initiator"
    );
    assert_eq!(
        resp_states[..],
        [Connecting, Open, Closed],
        "{initiator:?} initiator"
    );

    // The server closes the transport first; the client waits for it.
    assert!(server.should_close_transport());
    assert!(!client.should_close_transport());
    client.receive_eof();
    assert!(client.should_close_transport());
    // A clean close followed by EOF is not an abnormal closure.
    assert!(matches!(client.next_event(), Ok(None)));
    // Nothing more is delivered after the close.
    client.receive(b"\x81\x05Hello");
    server.receive(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    assert!(matches!(client.next_event(), Ok(None)));
    assert!(matches!(server.next_event(), Ok(None)));
}

#[test]
fn close_started_by_the_client() {
    close_handshake(Role::Client, CloseCode::NORMAL, "bye");
    close_handshake(Role::Client, CloseCode::from(4000), "");
}

#[test]
fn close_started_by_the_server() {
    close_handshake(Role::Server, CloseCode::GOING_AWAY, "shutting down");
    close_handshake(Role::Server, CloseCode::from(3001), &"r".repeat(123));
}

#[test]
fn empty_close_is_answered_with_an_empty_close() {
    let mut server = Connection::open(Role::Server, Config::default());
    server.receive(&[0x88, 0x80, 1, 2, 3, 4]);
    assert_eq!(events(&mut server), [Event::Close(None)]);
    assert_eq!(drain(&mut server), [0x88, 0x00]);
    assert_eq!(server.ready_state(), ReadyState::Closed);
    assert!(server.should_close_transport());

    let mut client = Connection::open(Role::Client, Config::default());
    client.receive(&[0x88, 0x00]);
    assert_eq!(events(&mut client), [Event::Close(None)]);
    let reply = parse_frames(&drain(&mut client));
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0].opcode, 0x8);
    assert!(reply[0].payload.is_empty());
    assert!(reply[0].mask.is_some());
    assert!(!client.should_close_transport());
}

#[test]
fn messages_still_arrive_while_closing_but_pings_are_not_answered() {
    let (mut client, mut server) = default_pair();
    client.close(CloseCode::NORMAL, "").unwrap();
    // The server sent these before it saw the close.
    server.send_text("late").unwrap();
    server.ping(b"late ping").unwrap();
    pump(&mut server, &mut client);
    assert_eq!(
        events(&mut client),
        [
            Event::Message(Message::from("late")),
            Event::Ping(Bytes::from_static(b"late ping")),
        ]
    );
    assert_eq!(client.ready_state(), ReadyState::Closing);
    // Only the close frame is queued: no pong after our close.
    let frames = parse_frames(&drain(&mut client));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].opcode, 0x8);
}

/// Every send is refused with `NotOpen(state)` and queues nothing.
fn assert_cannot_send(conn: &mut Connection, state: ReadyState) {
    let queued = conn.buffered_amount();
    let not_open = |r: Result<(), Error>| matches!(r, Err(Error::NotOpen(s)) if s == state);
    assert!(not_open(conn.send_text("x")));
    assert!(not_open(conn.send_binary(b"x")));
    assert!(not_open(conn.send(Message::from("x"))));
    assert!(not_open(conn.send_fragment(MessageKind::Text, b"x", true)));
    assert!(not_open(conn.ping(b"x")));
    assert!(not_open(conn.pong(b"x")));
    // Another close is a no-op: never a second close frame.
    conn.close(CloseCode::GOING_AWAY, "again").unwrap();
    assert_eq!(conn.buffered_amount(), queued);
    assert_eq!(conn.ready_state(), state);
}

#[test]
fn nothing_can_be_sent_after_close() {
    for initiator in [Role::Client, Role::Server] {
        let (mut client, mut server) = default_pair();
        let (init, resp) = match initiator {
            Role::Client => (&mut client, &mut server),
            Role::Server => (&mut server, &mut client),
        };
        init.close(CloseCode::NORMAL, "").unwrap();
        assert_cannot_send(init, ReadyState::Closing);
        pump(init, resp);
        assert_eq!(events(resp).len(), 1);
        assert_cannot_send(resp, ReadyState::Closed);
        pump(resp, init);
        assert_eq!(events(init).len(), 1);
        assert_cannot_send(init, ReadyState::Closed);
    }
}

#[test]
fn should_close_transport_only_once_closed_and_written() {
    let (mut client, mut server) = default_pair();
    assert!(!server.should_close_transport());
    assert!(!client.should_close_transport());
    client.close(CloseCode::NORMAL, "").unwrap();
    pump(&mut client, &mut server);
    events(&mut server);
    assert_eq!(server.ready_state(), ReadyState::Closed);
    // The reply is not written yet.
    assert!(!server.should_close_transport());
    let n = server.buffered_amount();
    server.consume_output(n - 1);
    assert!(!server.should_close_transport());
    server.consume_output(1);
    assert!(server.should_close_transport());
}

#[test]
fn eof_before_a_close_is_an_abnormal_closure() {
    for role in [Role::Client, Role::Server] {
        let (mut client, mut server) = default_pair();
        let (tx, rx) = match role {
            Role::Client => (&mut server, &mut client),
            Role::Server => (&mut client, &mut server),
        };
        // What arrived before the EOF is still delivered, then the error.
        tx.send_text("last words").unwrap();
        pump(tx, rx);
        rx.receive_eof();
        assert_eq!(
            rx.next_event().unwrap(),
            Some(Event::Message(Message::from("last words")))
        );
        let err = rx.next_event().unwrap_err();
        assert!(matches!(err, Error::AbnormalClosure), "{err}");
        assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL));
        assert_eq!(rx.ready_state(), ReadyState::Closed);
        assert_eq!(
            rx.buffered_amount(),
            0,
            "no close frame to a closed transport"
        );
        assert!(rx.should_close_transport());
        assert!(matches!(rx.next_event(), Ok(None)));
    }

    // With a partial frame pending.
    let (mut client, _) = default_pair();
    client.receive(b"\x81\x05Hel");
    assert_eq!(client.next_event().unwrap(), None);
    client.receive_eof();
    assert!(matches!(client.next_event(), Err(Error::AbnormalClosure)));

    // While waiting for the peer's close reply.
    let (mut client, _) = default_pair();
    client.close(CloseCode::NORMAL, "").unwrap();
    client.receive_eof();
    assert!(matches!(client.next_event(), Err(Error::AbnormalClosure)));
    assert_eq!(client.ready_state(), ReadyState::Closed);
}

#[test]
fn buffered_amount_counts_queued_bytes() {
    // Opened without a handshake, so nothing is compressed (see
    // tests/deflate.rs for what compression sends).
    let mut client = Connection::open(Role::Client, Config::default());
    let mut server = Connection::open(Role::Server, Config::default());
    assert_eq!(client.buffered_amount(), 0);
    assert_eq!(server.buffered_amount(), 0);
    server.send_text("hello").unwrap();
    assert_eq!(server.buffered_amount(), 7);
    server.send_binary(&[0; 200]).unwrap();
    assert_eq!(server.buffered_amount(), 7 + 4 + 200);
    server.send(Message::from(vec![0u8; 70_000])).unwrap();
    assert_eq!(server.buffered_amount(), 211 + 10 + 70_000);
    server.consume_output(3);
    assert_eq!(server.buffered_amount(), 211 + 70_010 - 3);
    server.consume_output(208);
    assert_eq!(server.buffered_amount(), 70_010);
    drain(&mut server);
    assert_eq!(server.buffered_amount(), 0);

    client.send_text("hello").unwrap();
    assert_eq!(client.buffered_amount(), 2 + 4 + 5);
    client.ping(b"").unwrap();
    assert_eq!(client.buffered_amount(), 11 + 6);
    drain(&mut client);
    assert_eq!(client.buffered_amount(), 0);
    assert_eq!(client.output(), b"");
}

#[test]
fn max_buffered_amount_refuses_sends_until_drained() {
    let config = Config {
        max_buffered_amount: 100,
        ..Config::default()
    };
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::open(role, config.clone());
        // With nothing waiting, even a message larger than the cap goes out.
        conn.send_binary(&[1; 150]).unwrap();
        let queued = conn.buffered_amount();
        assert!(queued > 150);
        let err = conn.send_text("x").unwrap_err();
        assert!(
            matches!(err, Error::BufferFull { buffered, max: 100 } if buffered == queued),
            "{err:?}"
        );
        assert!(matches!(conn.ping(b"x"), Err(Error::BufferFull { .. })));
        assert!(matches!(
            conn.send_fragment(MessageKind::Binary, b"x", true),
            Err(Error::BufferFull { .. })
        ));
        assert_eq!(
            conn.buffered_amount(),
            queued,
            "refused sends queue nothing"
        );
        drain(&mut conn);
        conn.send_binary(&[2; 60]).unwrap();
        // The cap counts what waits plus the new payload: exactly the room
        // left fits, one byte more does not.
        let room = 100 - conn.buffered_amount();
        assert!(matches!(
            conn.send_binary(&vec![3; room + 1]),
            Err(Error::BufferFull { max: 100, .. })
        ));
        conn.send_binary(&vec![3; room]).unwrap();
        // Headers count too: the queue now exceeds the cap, so even an
        // empty pong waits.
        assert!(conn.buffered_amount() > 100);
        assert!(matches!(conn.pong(b""), Err(Error::BufferFull { .. })));
        // Closing is always possible.
        conn.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(conn.ready_state(), ReadyState::Closing);
    }
}

#[test]
fn close_arguments_are_validated() {
    let (mut client, _) = default_pair();
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let err = client.close(CloseCode::from(code), "").unwrap_err();
        assert!(
            matches!(err, Error::InvalidCloseCode(c) if c == code),
            "{code}: {err:?}"
        );
    }
    assert!(matches!(
        client.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(Error::CloseReasonTooLong(124))
    ));
    // 62 two-byte characters: 124 bytes.
    assert!(matches!(
        client.close(CloseCode::NORMAL, &"é".repeat(62)),
        Err(Error::CloseReasonTooLong(124))
    ));
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(client.buffered_amount(), 0);
    client.close(CloseCode::NORMAL, &"x".repeat(123)).unwrap();
    let frames = parse_frames(&drain(&mut client));
    assert_eq!(frames[0].payload.len(), 125);
}

#[test]
fn control_payload_limit() {
    let (mut client, mut server) = default_pair();
    for conn in [&mut client, &mut server] {
        assert!(matches!(
            conn.ping(&[0; 126]),
            Err(Error::ControlPayloadTooLong(126))
        ));
        assert!(matches!(
            conn.pong(&[0; 126]),
            Err(Error::ControlPayloadTooLong(126))
        ));
        assert_eq!(conn.buffered_amount(), 0);
        conn.ping(&[0; 125]).unwrap();
        conn.pong(&[0; 125]).unwrap();
    }
    pump(&mut client, &mut server);
    assert_eq!(
        events(&mut server),
        [
            Event::Ping(Bytes::from(vec![0; 125])),
            Event::Pong(Bytes::from(vec![0; 125])),
        ]
    );
}

#[test]
fn close_while_connecting_abandons_the_handshake() {
    let mut client =
        Connection::client(ClientRequest::new("ws://h/").unwrap(), Config::default()).unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert!(matches!(
        client.send_text("x"),
        Err(Error::NotOpen(ReadyState::Closed))
    ));
    assert!(matches!(client.next_event(), Ok(None)));
}

#[test]
fn many_messages_in_one_read_arrive_in_order() {
    let (mut client, mut server) = default_pair();
    for i in 0..1000 {
        client.send_text(&format!("message {i}")).unwrap();
    }
    pump(&mut client, &mut server);
    let evs = events(&mut server);
    assert_eq!(evs.len(), 1000);
    for (i, ev) in evs.iter().enumerate() {
        assert_eq!(ev, &Event::Message(Message::from(format!("message {i}"))));
    }
}

#[test]
fn memory_is_released_once_traffic_turns_small() {
    let (mut client, mut server) = default_pair();
    client.send_binary(&vec![9u8; 4 << 20]).unwrap();
    pump(&mut client, &mut server);
    let evs = events(&mut server);
    assert_eq!(evs.len(), 1);
    drop(evs);
    client.send_text("small").unwrap();
    pump(&mut client, &mut server);
    assert_eq!(events(&mut server).len(), 1);
    assert!(
        server.buffer_capacity() <= 64 * 1024,
        "idle server holds {} bytes",
        server.buffer_capacity()
    );
    assert!(
        client.buffer_capacity() <= 64 * 1024,
        "idle client holds {} bytes",
        client.buffer_capacity()
    );
}
