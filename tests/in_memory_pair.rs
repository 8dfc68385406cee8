//! The crate documentation's in-memory pair, run through everything: a
//! client and a server `Connection` wired to each other by
//! `write_output_to` over a "socket" with a small send buffer (so writes
//! come up short and then block, as a non-blocking socket's do), exchanging
//! text, binary, large and fragmented messages, pings and pongs, and
//! closing from either end, with the timers' queries checked on the way.

use std::io::{self, Write};

use rfc6455::{
    Accept, Bytes, ClientRequest, CloseCode, Config, Connection, Event, Message, MessageKind,
    ReadyState,
};

/// One direction of a socket: a send buffer of `room` bytes that the peer
/// empties when it reads. A write takes what fits (a short write) and
/// returns `WouldBlock` when nothing does.
struct Pipe {
    buffer: Vec<u8>,
    room: usize,
    writes: usize,
}

impl Pipe {
    fn new(room: usize) -> Self {
        Pipe {
            buffer: Vec::new(),
            room,
            writes: 0,
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let free = self.room - self.buffer.len();
        if free == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = data.len().min(free);
        self.buffer.extend_from_slice(&data[..n]);
        self.writes += 1;
        Ok(n)
    }

    fn write_vectored(&mut self, slices: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut total = 0;
        for slice in slices {
            match self.write(slice) {
                Ok(n) => {
                    total += n;
                    if n < slice.len() {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The two connections and a socket each way.
/// The default configuration, without permessage-deflate when the
/// feature is on: these tests count the bytes a socket takes, and a
/// compressed payload would be a few of them.
fn config() -> Config {
    Config {
        #[cfg(feature = "deflate")]
        deflate: None,
        ..Config::default()
    }
}

struct Pair {
    client: Connection,
    server: Connection,
    to_server: Pipe,
    to_client: Pipe,
}

impl Pair {
    /// Moves bytes both ways until neither end has anything queued, as an
    /// event loop would: write until the socket is full, let the peer
    /// read, repeat. Events are left for the test to take.
    fn pump(&mut self) {
        loop {
            let sent = self.client.write_output_to(&mut self.to_server).unwrap()
                + self.server.write_output_to(&mut self.to_client).unwrap();
            let moved = self.to_server.buffer.len() + self.to_client.buffer.len();
            self.server
                .receive(&std::mem::take(&mut self.to_server.buffer));
            self.client
                .receive(&std::mem::take(&mut self.to_client.buffer));
            if sent == 0 && moved == 0 {
                assert_eq!(self.client.buffered_amount(), 0);
                assert_eq!(self.server.buffered_amount(), 0);
                return;
            }
        }
    }

    fn open(room: usize) -> Pair {
        let request = ClientRequest::new("ws://example.com/chat")
            .unwrap()
            .protocol("chat");
        let mut pair = Pair {
            client: Connection::client(request, config()).unwrap(),
            server: Connection::server(config()),
            to_server: Pipe::new(room),
            to_client: Pipe::new(room),
        };
        pair.pump();
        match pair.server.next_event().unwrap() {
            Some(Event::Request(req)) => {
                assert_eq!(req.path(), "/chat");
                pair.server.accept(Accept::new().protocol("chat")).unwrap();
            }
            other => panic!("expected the request, got {other:?}"),
        }
        pair.pump();
        match pair.client.next_event().unwrap() {
            Some(Event::Open(response)) => assert_eq!(response.protocol(), Some("chat")),
            other => panic!("expected the opening, got {other:?}"),
        }
        assert_eq!(pair.server.protocol(), Some("chat"));
        pair
    }
}

fn next(conn: &mut Connection) -> Event {
    conn.next_event()
        .unwrap()
        .expect("an event should have arrived")
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn text_and_binary_both_ways() {
    let mut pair = Pair::open(1500);
    pair.client.send_text("héllo €").unwrap();
    pair.client.send_binary(&[0, 1, 2, 255]).unwrap();
    pair.server.send_text("").unwrap();
    pair.server.send(Message::from(vec![9u8; 300])).unwrap();
    pair.pump();
    assert_eq!(
        next(&mut pair.server),
        Event::Message(Message::from("héllo €"))
    );
    assert_eq!(
        next(&mut pair.server),
        Event::Message(Message::from(vec![0u8, 1, 2, 255]))
    );
    assert_eq!(next(&mut pair.client), Event::Message(Message::from("")));
    assert_eq!(
        next(&mut pair.client),
        Event::Message(Message::from(vec![9u8; 300]))
    );
    assert_eq!(pair.client.next_event().unwrap(), None);
    assert_eq!(pair.server.next_event().unwrap(), None);
}

/// Large messages queued by reference (and, from the client, masked a
/// piece at a time) cross a socket that takes 1,500 bytes at a time: the
/// bytes arrive whole and in order, through many short writes.
#[test]
fn large_messages_cross_a_small_socket_whole() {
    let mut pair = Pair::open(1500);
    let up = pattern(1 << 20, 1);
    let down = pattern(300_000, 2);
    pair.client.send(Bytes::from(up.clone())).unwrap();
    pair.client.send_text("after the large one").unwrap();
    pair.server.send(Bytes::from(down.clone())).unwrap();
    pair.server.send_binary(&pattern(70_000, 3)).unwrap();
    pair.pump();
    // Many short writes, each ended by a full socket.
    assert!(pair.to_server.writes > (1 << 20) / 1500);
    assert_eq!(next(&mut pair.server), Event::Message(Message::from(up)));
    assert_eq!(
        next(&mut pair.server),
        Event::Message(Message::from("after the large one"))
    );
    assert_eq!(next(&mut pair.client), Event::Message(Message::from(down)));
    assert_eq!(
        next(&mut pair.client),
        Event::Message(Message::from(pattern(70_000, 3)))
    );
}

/// The crate documentation's pump once moved `output()` alone: after a
/// large `send`, one pump left the payload queued and the peer waiting.
/// One `write_output_to` into a writer with room moves all of it.
#[test]
fn one_pump_moves_everything_queued() {
    let mut pair = Pair::open(usize::MAX);
    pair.client.send(Bytes::from(vec![7u8; 100_000])).unwrap();
    assert_eq!(pair.client.buffered_amount(), 100_014);
    assert!(pair.client.output().len() < 100_014);
    let written = pair.client.write_output_to(&mut pair.to_server).unwrap();
    assert_eq!(written, 100_014);
    assert_eq!(pair.client.buffered_amount(), 0);
    pair.server
        .receive(&std::mem::take(&mut pair.to_server.buffer));
    assert_eq!(
        next(&mut pair.server),
        Event::Message(Message::from(vec![7u8; 100_000]))
    );
}

#[test]
fn fragments_with_a_ping_between_them() {
    let mut pair = Pair::open(64);
    pair.client
        .send_fragment(MessageKind::Text, "h\u{e9}".as_bytes(), false)
        .unwrap();
    pair.client.ping(b"between").unwrap();
    // A code point split across fragments.
    let euro = "€".as_bytes();
    pair.client
        .send_fragment(MessageKind::Text, &euro[..1], false)
        .unwrap();
    pair.client
        .send_fragment(MessageKind::Text, &euro[1..], true)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, &pattern(40_000, 4), false)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, &[], false)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, &pattern(10, 5), true)
        .unwrap();
    pair.pump();
    // The ping is reported first (the message is not complete yet), and
    // answered by the server itself.
    assert_eq!(
        next(&mut pair.server),
        Event::Ping(Bytes::from_static(b"between"))
    );
    assert_eq!(next(&mut pair.server), Event::Message(Message::from("hé€")));
    let mut expected = pattern(40_000, 4);
    expected.extend_from_slice(&pattern(10, 5));
    assert_eq!(
        next(&mut pair.client),
        Event::Message(Message::from(expected))
    );
    pair.pump();
    assert_eq!(
        next(&mut pair.client),
        Event::Pong(Bytes::from_static(b"between"))
    );
}

#[test]
fn ping_and_pong_from_either_end() {
    let mut pair = Pair::open(1500);
    pair.server.ping(b"from the server").unwrap();
    pair.client.pong(b"unsolicited").unwrap();
    pair.pump();
    assert_eq!(
        next(&mut pair.client),
        Event::Ping(Bytes::from_static(b"from the server"))
    );
    assert_eq!(
        next(&mut pair.server),
        Event::Pong(Bytes::from_static(b"unsolicited"))
    );
    pair.pump(); // the client's automatic answer
    assert_eq!(
        next(&mut pair.server),
        Event::Pong(Bytes::from_static(b"from the server"))
    );
}

/// The client closes: both ends expect the right thing of the other, and
/// the server closes TCP first while the client waits for it.
#[test]
fn close_handshake_started_by_the_client() {
    let mut pair = Pair::open(1500);
    assert!(!pair.client.close_expected() && !pair.server.close_expected());
    pair.client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(pair.client.ready_state(), ReadyState::Closing);
    assert!(pair.client.close_expected());
    pair.pump();
    match next(&mut pair.server) {
        Event::Close(Some(frame)) => assert_eq!(
            (frame.code, frame.reason.as_str()),
            (CloseCode::NORMAL, "done")
        ),
        other => panic!("expected the close, got {other:?}"),
    }
    // The server's reply is queued; it closes TCP once that is written.
    assert!(!pair.server.close_expected());
    assert!(!pair.server.should_close_transport());
    pair.pump();
    assert!(pair.server.should_close_transport());
    assert!(matches!(
        next(&mut pair.client),
        Event::Close(Some(f)) if f.code == CloseCode::NORMAL
    ));
    assert_eq!(pair.client.ready_state(), ReadyState::Closed);
    // The client waits for the server's TCP close, under its close timer.
    assert!(pair.client.close_expected());
    assert!(!pair.client.should_close_transport());
    pair.client.receive_eof();
    assert!(!pair.client.close_expected());
    assert!(pair.client.should_close_transport());
    assert_eq!(pair.client.next_event().unwrap(), None);
}

/// The server closes: it expects the client's close frame; once that
/// arrives it closes TCP itself, and the client then expects it to.
#[test]
fn close_handshake_started_by_the_server() {
    let mut pair = Pair::open(1500);
    pair.server.close(CloseCode::GOING_AWAY, "restart").unwrap();
    assert!(pair.server.close_expected());
    assert!(!pair.client.close_expected());
    pair.pump();
    assert!(matches!(
        next(&mut pair.client),
        Event::Close(Some(f)) if f.code == CloseCode::GOING_AWAY
    ));
    // The client's reply echoes the code; then it waits for TCP to close.
    assert!(pair.client.close_expected());
    pair.pump();
    assert!(matches!(next(&mut pair.server), Event::Close(Some(_))));
    assert!(!pair.server.close_expected());
    assert!(pair.server.should_close_transport());
    assert!(pair.client.close_expected());
}

/// A server whose close goes unanswered: its close timer fires, it
/// closes the transport, and the unfinished handshake is abnormal.
#[test]
fn an_unanswered_close_ends_abnormally_when_the_timer_fires() {
    let mut pair = Pair::open(1500);
    pair.server.close(CloseCode::NORMAL, "").unwrap();
    pair.server.write_output_to(&mut pair.to_client).unwrap();
    assert!(pair.server.close_expected());
    // The timer fired: the runtime closes the transport.
    pair.server.receive_eof();
    assert!(!pair.server.close_expected());
    assert!(matches!(
        pair.server.next_event(),
        Err(rfc6455::Error::AbnormalClosure)
    ));
    assert!(pair.server.should_close_transport());
}

/// Neither end expects a close while connecting, nor after a failure
/// (the failing end closes the transport itself).
#[test]
fn no_close_is_expected_while_connecting_or_after_a_failure() {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let server = Connection::server(Config::default());
    assert!(!client.close_expected() && !server.close_expected());

    let mut pair = Pair::open(1500);
    // A server must not receive unmasked frames: a violation.
    pair.server.receive(&[0x81, 0x01, b'x']);
    assert!(pair.server.next_event().is_err());
    assert!(!pair.server.close_expected());
    pair.pump();
    assert!(pair.server.should_close_transport());
    // The client got the server's 1002 and replies; it then waits for
    // the server to close TCP, as after any close handshake.
    assert!(matches!(
        next(&mut pair.client),
        Event::Close(Some(f)) if f.code == CloseCode::PROTOCOL_ERROR
    ));
    assert!(pair.client.close_expected());

    // A client that fails closes the transport itself.
    let mut pair = Pair::open(1500);
    pair.client.receive(&[0x82, 0x81, 0, 0, 0, 0, 0]); // masked, from a server
    assert!(pair.client.next_event().is_err());
    assert!(!pair.client.close_expected());
    pair.pump();
    assert!(pair.client.should_close_transport());
    client.close(CloseCode::NORMAL, "").unwrap(); // abandons the handshake
    assert!(!client.close_expected());
}
