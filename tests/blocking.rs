//! The blocking adapters over real loopback sockets (127.0.0.1 only, every
//! wait bounded).

mod common;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{connect, ClientBuilder, Handler, ServerBuilder, Transport, WebSocket};
use rfc6455::{
    Accept, CloseCode, Config, Connection, Error, Event, Message, ReadyState, Reject, Role,
};
use rfc6455::{CloseEvent, HandshakeError};

const LIMIT: Duration = Duration::from_secs(10);

/// A listener on an ephemeral port and its ws:// URL.
fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn accept_one(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Spawns an echo server for one connection; returns its close event.
fn echo_once(listener: TcpListener) -> thread::JoinHandle<(Vec<ReadyState>, Option<CloseEvent>)> {
    thread::spawn(move || {
        let mut ws = ServerBuilder::new()
            .read_timeout(Some(LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        let mut states = vec![ws.ready_state()];
        while let Ok(Some(message)) = ws.recv() {
            ws.send(message).unwrap();
        }
        states.push(ws.ready_state());
        (states, ws.close_event().cloned())
    })
}

#[test]
fn client_initiated_close_ready_states_on_both_sides() {
    let (listener, url) = listen();
    let server = echo_once(listener);
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    assert_eq!(ws.ready_state(), ReadyState::Open);
    assert_eq!(ws.url(), Some(url.as_str()));
    ws.send_text("héllo").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("héllo")));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(vec![0, 1, 2, 255])));
    ws.close(1000, "bye").unwrap();
    assert_eq!(ws.ready_state(), ReadyState::Closing);
    assert!(matches!(
        ws.send_text("late"),
        Err(Error::NotOpen(ReadyState::Closing))
    ));
    assert_eq!(ws.recv().unwrap(), None);
    assert_eq!(ws.ready_state(), ReadyState::Closed);
    let event = ws.close_event().unwrap();
    assert_eq!(
        (event.code, event.reason.as_str(), event.was_clean),
        (CloseCode::NORMAL, "bye", true)
    );

    let (states, server_event) = server.join().unwrap();
    assert_eq!(states, [ReadyState::Open, ReadyState::Closed]);
    let server_event = server_event.unwrap();
    assert_eq!(server_event.code, CloseCode::NORMAL);
    assert!(server_event.was_clean);
}

#[test]
fn server_initiated_close_and_tcp_closed_by_server() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new().accept(accept_one(&listener)).unwrap();
        ws.close(4000, "server done").unwrap();
        assert_eq!(ws.ready_state(), ReadyState::Closing);
        assert_eq!(ws.recv().unwrap(), None);
        assert_eq!(ws.ready_state(), ReadyState::Closed);
        ws.close_event().cloned().unwrap()
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    let started = Instant::now();
    assert_eq!(ws.recv().unwrap(), None);
    // The client waited for the server to close TCP: well under the 5 s close timeout.
    assert!(started.elapsed() < Duration::from_secs(3));
    let event = ws.close_event().unwrap();
    assert_eq!(
        (event.code.as_u16(), event.reason.as_str(), event.was_clean),
        (4000, "server done", true)
    );
    let server_event = server.join().unwrap();
    assert_eq!(server_event.code.as_u16(), 4000);
    assert!(server_event.was_clean);
}

#[test]
fn dropped_tcp_is_an_abnormal_1006_close() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let ws = ServerBuilder::new().accept(accept_one(&listener)).unwrap();
        drop(ws); // TCP closed without a close frame
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    server.join().unwrap();
    let err = ws.recv().unwrap_err();
    assert!(matches!(err, Error::AbnormalClosure), "{err:?}");
    assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL));
    let event = ws.close_event().unwrap();
    assert_eq!(event.code, CloseCode::ABNORMAL);
    assert!(!event.was_clean);
    assert_eq!(ws.ready_state(), ReadyState::Closed);
}

#[test]
fn handshake_rejection_status_reaches_the_client() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let result = ServerBuilder::new().accept_with(accept_one(&listener), |req| {
            assert_eq!(req.path(), "/private");
            Err(Reject::new(403)
                .header("X-Why", "no entry")
                .body("forbidden"))
        });
        matches!(
            result,
            Err(Error::Handshake {
                error: HandshakeError::Rejected { status: 403, .. },
                ..
            })
        )
    });
    match connect(&format!("{url}/private")) {
        Err(Error::Handshake {
            error:
                HandshakeError::Rejected {
                    status,
                    headers,
                    body,
                },
            ..
        }) => {
            assert_eq!(status, 403);
            assert_eq!(headers.get("x-why"), Some("no entry"));
            assert_eq!(body, b"forbidden");
        }
        other => panic!("expected a 403 rejection, got {other:?}"),
    }
    assert!(server.join().unwrap());
}

#[test]
fn subprotocol_negotiation() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let ws = ServerBuilder::new()
            .accept_with(accept_one(&listener), |req| {
                assert_eq!(
                    req.protocols().collect::<Vec<_>>(),
                    ["v2.chat", "superchat"]
                );
                assert_eq!(req.origin(), Some("http://example.com"));
                assert_eq!(req.header("x-extra"), Some("1"));
                Ok(Accept::new().protocol("superchat"))
            })
            .unwrap();
        ws.protocol().map(str::to_owned)
    });
    let ws = ClientBuilder::new(&url)
        .protocol("v2.chat")
        .protocol("superchat")
        .origin("http://example.com")
        .header("X-Extra", "1")
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), Some("superchat"));
    assert_eq!(server.join().unwrap().as_deref(), Some("superchat"));
}

#[test]
fn a_handshake_that_never_completes_times_out() {
    let (listener, _url) = listen();
    let addr = listener.local_addr().unwrap();
    let slow = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        // Half a request, then silence.
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        thread::sleep(Duration::from_secs(2));
    });
    let started = Instant::now();
    let result = ServerBuilder::new()
        .handshake_timeout(Duration::from_millis(300))
        .accept(accept_one(&listener));
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    slow.join().unwrap();
}

#[test]
fn concurrent_clients_each_get_their_own_echo() {
    let (listener, url) = listen();
    const CLIENTS: usize = 16;
    let server = thread::spawn(move || {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let stream = accept_one(&listener);
                thread::spawn(move || {
                    let mut ws = ServerBuilder::new().accept(stream).unwrap();
                    while let Ok(Some(m)) = ws.recv() {
                        ws.queue(m).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let url = url.clone();
            thread::spawn(move || {
                let mut ws = ClientBuilder::new(&url)
                    .read_timeout(Some(LIMIT))
                    .connect()
                    .unwrap();
                for j in 0..50 {
                    let text = format!("client {i} message {j}");
                    ws.send_text(&text).unwrap();
                    assert_eq!(ws.recv().unwrap(), Some(Message::from(text)));
                }
                ws.close(1000, "").unwrap();
                assert_eq!(ws.recv().unwrap(), None);
                assert!(ws.close_event().unwrap().was_clean);
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.join().unwrap();
}

/// Reads one server frame (unmasked, short) from a raw stream.
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let mut payload = vec![0u8; (head[1] & 0x7f) as usize];
    stream.read_exact(&mut payload).unwrap();
    (head[0], payload)
}

#[test]
fn garbage_from_a_peer_fails_with_1002_and_the_server_survives() {
    let (listener, _url) = listen();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut results = Vec::new();
        for _ in 0..2 {
            let mut ws = ServerBuilder::new().accept(accept_one(&listener)).unwrap();
            results.push(loop {
                match ws.recv() {
                    Ok(Some(m)) => ws.send(m).unwrap(),
                    Ok(None) => break None,
                    Err(e) => break Some((e.close_code(), ws.close_event().cloned().unwrap())),
                }
            });
        }
        results
    });
    // First peer: a valid masked "Hello", then a reserved opcode.
    let mut stream = common::raw::client(addr);
    stream
        .write_all(&[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ])
        .unwrap();
    assert_eq!(read_frame(&mut stream), (0x81, b"Hello".to_vec()));
    stream.write_all(&[0x83, 0x80, 0, 0, 0, 0]).unwrap();
    let (opcode, payload) = read_frame(&mut stream);
    assert_eq!(opcode, 0x88);
    assert_eq!(&payload[..2], &1002u16.to_be_bytes());
    // The server closed TCP after its close frame.
    assert_eq!(stream.read(&mut [0u8; 16]).unwrap(), 0);

    // Second peer: invalid UTF-8 in a text frame.
    let mut stream = common::raw::client(addr);
    stream
        .write_all(&[0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])
        .unwrap();
    let (opcode, payload) = read_frame(&mut stream);
    assert_eq!(opcode, 0x88);
    assert_eq!(&payload[..2], &1007u16.to_be_bytes());

    let results = server.join().unwrap();
    let (code, event) = results[0].clone().unwrap();
    assert_eq!(code, Some(CloseCode::PROTOCOL_ERROR));
    assert_eq!(event.code, CloseCode::PROTOCOL_ERROR);
    assert!(!event.was_clean);
    let (code, _) = results[1].clone().unwrap();
    assert_eq!(code, Some(CloseCode::INVALID_PAYLOAD));
}

#[test]
fn handler_sees_open_message_and_close() {
    let (listener, url) = listen();
    let server = echo_once(listener);

    #[derive(Default)]
    struct Recorder {
        log: Vec<String>,
    }
    impl<S: Transport> Handler<S> for Recorder {
        fn on_open(&mut self, ws: &mut WebSocket<S>) {
            self.log.push(format!("open {:?}", ws.ready_state()));
            ws.send_text("one").unwrap();
        }
        fn on_message(&mut self, ws: &mut WebSocket<S>, message: Message) {
            self.log.push(format!(
                "message {}",
                String::from_utf8_lossy(message.as_bytes())
            ));
            ws.close(3001, "enough").unwrap();
        }
        fn on_error(&mut self, _ws: &mut WebSocket<S>, error: &Error) {
            self.log.push(format!("error {error}"));
        }
        fn on_close(&mut self, event: &CloseEvent) {
            self.log.push(format!(
                "close {} {} {}",
                event.code, event.reason, event.was_clean
            ));
        }
    }
    let mut recorder = Recorder::default();
    let ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    let event = recorder.run(ws);
    assert_eq!(event.code.as_u16(), 3001);
    assert_eq!(
        recorder.log,
        ["open Open", "message one", "close 3001 enough true"]
    );
    server.join().unwrap();
}

#[test]
fn handler_reports_an_abnormal_end_as_error_then_1006() {
    let (listener, url) = listen();
    let server =
        thread::spawn(move || drop(ServerBuilder::new().accept(accept_one(&listener)).unwrap()));
    struct Recorder(Vec<String>);
    impl<S: Transport> Handler<S> for Recorder {
        fn on_message(&mut self, _ws: &mut WebSocket<S>, _message: Message) {}
        fn on_error(&mut self, _ws: &mut WebSocket<S>, _error: &Error) {
            self.0.push("error".into());
        }
        fn on_close(&mut self, event: &CloseEvent) {
            self.0
                .push(format!("close {} {}", event.code, event.was_clean));
        }
    }
    let ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    server.join().unwrap();
    let mut recorder = Recorder(Vec::new());
    recorder.run(ws);
    assert_eq!(recorder.0, ["error", "close 1006 false"]);
}

#[test]
fn close_rules_and_wss_without_tls() {
    // Port 1 refuses: with TLS built in, the connect itself fails.
    #[cfg(not(feature = "tls"))]
    assert!(matches!(
        connect("wss://127.0.0.1:1/"),
        Err(Error::TlsNotEnabled)
    ));
    #[cfg(feature = "tls")]
    assert!(matches!(connect("wss://127.0.0.1:1/"), Err(Error::Io(_))));
    assert!(matches!(
        connect("http://127.0.0.1/"),
        Err(Error::InvalidUrl(_))
    ));
    let (listener, url) = listen();
    let server = echo_once(listener);
    let mut ws = connect(&url).unwrap();
    // RFC 6455's rule (section 7.4), not the browser's narrower one: codes
    // no endpoint sends (1005, 1006, 1015), reserved ones (1004, 1016-2999)
    // and those out of range are refused; the same on `Connection::close`.
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert!(
            matches!(ws.close(code, ""), Err(Error::InvalidCloseCode(c)) if c == code),
            "{code}"
        );
    }
    assert!(matches!(
        ws.close(1000, &"x".repeat(124)),
        Err(Error::CloseReasonTooLong(124))
    ));
    assert_eq!(ws.ready_state(), ReadyState::Open);
    ws.close(1000, &"x".repeat(123)).unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    server.join().unwrap();
}

/// An in-memory stream that answers every other read and write with
/// `WouldBlock`, and writes at most 7 bytes at a time.
// In memory: no timeouts to set.
impl Transport for Flaky {}

struct Flaky {
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
    tick: usize,
}

impl Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tick += 1;
        if self.tick.is_multiple_of(2) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len() - self.pos).min(5);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tick += 1;
        if self.tick.is_multiple_of(2) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(7);
        self.output.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn would_block_never_loses_or_duplicates_data() {
    // The client side, as a core, produces the input frames.
    let mut client = Connection::open(Role::Client, Config::default());
    let sent: Vec<Message> = (0..40)
        .map(|i| {
            if i % 3 == 0 {
                Message::from(vec![i as u8; i * 11])
            } else {
                Message::from(format!("message {i} ✓"))
            }
        })
        .collect();
    for m in &sent {
        client.send(m.clone()).unwrap();
    }
    client.ping(b"p").unwrap();
    let input = client.output().to_vec();
    let stream = Flaky {
        input,
        pos: 0,
        output: Vec::new(),
        tick: 0,
    };
    let mut ws =
        WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));

    let mut received = Vec::new();
    let mut spins = 0;
    while received.len() < sent.len() {
        spins += 1;
        assert!(spins < 100_000, "no progress");
        match ws.recv() {
            Ok(Some(m)) => {
                match ws.send(m.clone()) {
                    Ok(()) => {}
                    // The message is queued; a later flush writes it.
                    Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
                received.push(m);
            }
            Ok(None) => panic!("closed early"),
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(received, sent);
    // Let the ping after the last message through, then write everything.
    let input_len = ws.get_ref().input.len();
    while ws.get_ref().pos < input_len {
        let _ = ws.recv();
    }
    for _ in 0..4 {
        let _ = ws.recv();
    }
    while ws.buffered_amount() > 0 {
        match ws.flush() {
            Ok(()) => {}
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    let written = ws.get_ref().output.clone();
    client.consume_output(client.buffered_amount());
    client.receive(&written);
    let mut echoed = Vec::new();
    let mut pongs = 0;
    while let Some(event) = client.next_event().unwrap() {
        match event {
            Event::Message(m) => echoed.push(m),
            Event::Pong(p) => {
                assert_eq!(&p[..], b"p");
                pongs += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(echoed, sent);
    assert_eq!(pongs, 1);
}

#[test]
fn queued_sends_coalesce_into_few_writes() {
    // Pipelined echo: 100 messages arrive in one read; recv + queue answers
    // them and the replies go out in a single write.
    impl Transport for Counting {}
    struct Counting {
        input: io::Cursor<Vec<u8>>,
        writes: usize,
        output: Vec<u8>,
    }
    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }
    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut client = Connection::open(Role::Client, Config::default());
    for i in 0..100 {
        client.send_text(&format!("{i:016}")).unwrap();
    }
    client.close(CloseCode::NORMAL, "").unwrap();
    let input = client.output().to_vec();
    let stream = Counting {
        input: io::Cursor::new(input),
        writes: 0,
        output: Vec::new(),
    };
    let mut ws =
        WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    let mut count = 0;
    while let Some(m) = ws.recv().unwrap() {
        ws.queue(m).unwrap();
        count += 1;
    }
    assert_eq!(count, 100);
    assert!(ws.get_ref().writes <= 2, "{} writes", ws.get_ref().writes);
}

#[test]
fn a_reset_connection_reads_as_closed() {
    let (listener, url) = listen();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let mut stream = accept_one(&listener);
        // Answer the handshake by hand, then vanish with unread data in the
        // receive buffer, which makes the kernel reset the connection.
        common::raw::server_handshake(&mut stream);
        sent_rx.recv().unwrap();
        thread::sleep(Duration::from_millis(50));
        drop(stream);
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    ws.send_text("never read").unwrap();
    sent_tx.send(()).unwrap();
    server.join().unwrap();
    let err = ws.recv().unwrap_err();
    assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL), "{err:?}");
    assert_eq!(ws.ready_state(), ReadyState::Closed);
    assert_eq!(ws.close_event().unwrap().code, CloseCode::ABNORMAL);
    assert!(!ws.close_event().unwrap().was_clean);
}

#[test]
fn large_messages_echo_intact() {
    let (listener, url) = listen();
    let server = echo_once(listener);
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    let binary: Vec<u8> = (0..3 * 1024 * 1024 + 7)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    ws.send_binary(&binary).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(binary)));
    let text = "ünïcödé text, ".repeat(150_000);
    ws.send_text(&text).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(text)));
    ws.close(1000, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    server.join().unwrap();
}

#[test]
fn a_read_timeout_in_the_middle_of_a_large_frame_loses_nothing() {
    let (listener, url) = listen();
    let payload: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let expected = payload.clone();
    let server = thread::spawn(move || {
        let mut stream = accept_one(&listener);
        common::raw::server_handshake(&mut stream);
        let mut frame = vec![0x82, 0x7f];
        frame.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        frame.extend_from_slice(&payload);
        // Half the frame, a pause longer than the client's read timeout, the rest.
        let half = frame.len() / 2;
        stream.write_all(&frame[..half]).unwrap();
        thread::sleep(Duration::from_millis(400));
        stream.write_all(&frame[half..]).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(Duration::from_millis(100)))
        .close_timeout(Duration::from_millis(100))
        .connect()
        .unwrap();
    let mut timeouts = 0;
    let message = loop {
        match ws.recv() {
            Ok(Some(m)) => break m,
            Err(Error::Timeout { .. }) => {
                timeouts += 1;
                assert!(timeouts < 100);
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(timeouts >= 1, "the pause should have timed a read out");
    assert_eq!(message, Message::from(expected));
    drop(ws);
    server.join().unwrap();
}

/// An in-memory stream that hands out its input in reads of varying size
/// (up to about 100 KB) and answers every tenth read with `WouldBlock`
/// (rare enough that a 128 KiB piece often completes between two);
/// writes go nowhere.
// In memory: no timeouts to set.
impl Transport for Uneven {}

struct Uneven {
    input: Vec<u8>,
    pos: usize,
    reads: u64,
}

impl Read for Uneven {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.reads.is_multiple_of(10) || self.pos == self.input.len() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let size = (self.reads * 7919 % 100_003) as usize + 1;
        let n = buf.len().min(size).min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Uneven {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_server_reads_large_frames_in_pieces_without_losing_a_byte() {
    // Large masked frames reach a server in reads of uneven size,
    // interrupted by WouldBlock anywhere: inside a piece of a large frame's
    // rest, between pieces, between frames. Each must arrive whole and
    // unmasked.
    let config = Config {
        max_frame_size: 4 << 20,
        max_message_size: 4 << 20,
        ..Config::default()
    };
    let mut client = Connection::open(Role::Client, config.clone());
    let sent = vec![
        Message::from(
            (0..(1 << 20) + 3)
                .map(|i| (i % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
        Message::from("ünïcödé, ".repeat(70_000)),
        Message::from(vec![9u8; 20]),
        Message::from((0..300_001).map(|i| (i % 241) as u8).collect::<Vec<u8>>()),
    ];
    for m in &sent {
        client.send(m.clone()).unwrap();
    }
    let mut input = Vec::new();
    while client.buffered_amount() > 0 {
        let mut slices = [io::IoSlice::new(&[]); 16];
        let n = client.output_io_slices(&mut slices);
        let before = input.len();
        for s in &slices[..n] {
            input.extend_from_slice(s);
        }
        client.consume_output(input.len() - before);
    }
    let stream = Uneven {
        input,
        pos: 0,
        reads: 0,
    };
    let mut ws = WebSocket::from_connection(stream, Connection::open(Role::Server, config));
    let mut received = Vec::new();
    let mut would_blocks = 0;
    while received.len() < sent.len() {
        match ws.recv() {
            Ok(Some(m)) => received.push(m),
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                would_blocks += 1;
                assert!(would_blocks < 10_000, "no progress");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(received, sent);
    // Reads were cut short by WouldBlock many times (most of them inside
    // large frames, where the adapter keeps what arrived).
    assert!(ws.get_ref().reads / 10 > 10, "{} reads", ws.get_ref().reads);
}

/// The full-duplex promise of `split`: one thread blocked in `recv` while
/// three others send 10,000 messages each through clones of the sender;
/// the peer gets every message, in order per thread.
#[test]
fn split_sends_from_three_threads_while_a_reader_waits() {
    const THREADS: usize = 3;
    const EACH: usize = 10_000;
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new()
            .read_timeout(Some(LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        let mut next = [0usize; THREADS];
        for _ in 0..THREADS * EACH {
            let Some(Message::Text(text)) = ws.recv().unwrap() else {
                panic!("expected text");
            };
            let (t, n) = text.split_once(' ').unwrap();
            let (t, n): (usize, usize) = (t.parse().unwrap(), n.parse().unwrap());
            assert_eq!(n, next[t], "thread {t} out of order");
            next[t] += 1;
        }
        ws.send_text("all here").unwrap();
        ws.close(1000, "done").unwrap();
        while ws.recv().unwrap().is_some() {}
        next
    });
    let ws = ClientBuilder::new(&url).connect().unwrap();
    let (mut reader, sender) = ws.split().unwrap();
    let receiving = thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(message) = reader.recv().unwrap() {
            got.push(message);
        }
        (got, reader.close_event().cloned())
    });
    // The reader is blocked in its read (no read timeout) while these send.
    thread::sleep(Duration::from_millis(50));
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            let sender = sender.clone();
            thread::spawn(move || {
                for n in 0..EACH {
                    sender.send_text(&format!("{t} {n}")).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(sender.buffered_amount(), 0);
    assert_eq!(server.join().unwrap(), [EACH; THREADS]);
    let (got, event) = receiving.join().unwrap();
    assert_eq!(got, [Message::from("all here")]);
    let event = event.unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::NORMAL, true));
    assert_eq!(sender.ready_state(), ReadyState::Closed);
    assert!(matches!(
        sender.send_text("late"),
        Err(Error::NotOpen(ReadyState::Closed))
    ));
}

/// Both ends send each other more than the sockets' buffers hold, at the
/// same time, through split sockets: each sender's write waits for the
/// peer to read, and each reader must go on reading while its own sender
/// holds the connection. Every message arrives whole, with no write
/// timing out.
#[test]
fn split_ends_sending_large_messages_at_once_do_not_wait_on_each_other() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let ws = ServerBuilder::new()
            .write_timeout(Some(common::SPLIT_WRITE_LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        common::split_exchange(ws, 2, 1)
    });
    let ws = ClientBuilder::new(&url)
        .write_timeout(Some(common::SPLIT_WRITE_LIMIT))
        .connect()
        .unwrap();
    let (client_got, client_sent) = common::split_exchange(ws, 1, 2);
    let (server_got, server_sent) = server.join().unwrap();
    assert!(client_sent.is_ok(), "client send: {client_sent:?}");
    assert!(server_sent.is_ok(), "server send: {server_sent:?}");
    assert_eq!(client_got, [2; common::SPLIT_COUNT]);
    assert_eq!(server_got, [1; common::SPLIT_COUNT]);
}

/// A split socket keeps the one connection's accounting: queued bytes are
/// counted exactly (header, mask key, payload), the cap refuses the send
/// that would pass it, and a flush writes everything out.
#[test]
fn split_buffered_amount_is_exact_and_the_cap_holds() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new()
            .read_timeout(Some(LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        let mut count = 0;
        while let Some(message) = ws.recv().unwrap() {
            assert_eq!(message.len(), 100);
            count += 1;
        }
        count
    });
    #[allow(unused_mut)]
    let mut config = Config {
        max_buffered_amount: 1000,
        ..Config::default()
    };
    // Exact frame sizes: nothing compressed.
    #[cfg(feature = "deflate")]
    {
        config.deflate = None;
    }
    let ws = ClientBuilder::new(&url).config(config).connect().unwrap();
    let (mut reader, sender) = ws.split().unwrap();
    // The reader starts after the counting: like `recv` on the unsplit
    // socket, it writes out what is queued when it hands over input.
    let payload = vec![7u8; 100];
    let mut queued = 0;
    let error = loop {
        match sender.queue(payload.clone()) {
            Ok(()) => queued += 1,
            Err(e) => break e,
        }
        // A client's 100-byte frame: 2 header bytes, 4 of mask key.
        assert_eq!(sender.buffered_amount(), queued * 106);
    };
    assert_eq!(queued, 9);
    assert!(matches!(
        error,
        Error::BufferFull {
            buffered: 954,
            max: 1000
        }
    ));
    let receiving = thread::spawn(move || reader.recv().map(|m| m.is_none()));
    sender.flush().unwrap();
    assert_eq!(sender.buffered_amount(), 0);
    sender.close(CloseCode::NORMAL, "").unwrap();
    assert!(receiving.join().unwrap().unwrap());
    assert_eq!(server.join().unwrap(), 9);
}

/// Sends a raw HTTP request to a server that handles one connection with
/// `ServerBuilder::handle` and a page-or-upgrade rule; returns what the
/// client read and what the server made of it.
fn raw_request_to_handle(
    request: &str,
    protocol: Option<&'static str>,
) -> (
    String,
    Result<rfc6455::blocking::Outcome<rfc6455::blocking::Stream>, Error>,
) {
    let (listener, _) = listen();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        ServerBuilder::new().handle(accept_one(&listener), |req| {
            if req.is_websocket() {
                Ok(match protocol {
                    Some(p) => Accept::new().protocol(p),
                    None => Accept::new(),
                })
            } else {
                Err(Reject::new(200)
                    .header("Content-Type", "text/html")
                    .body("<p>page</p>"))
            }
        })
    });
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    (String::from_utf8(answer).unwrap(), server.join().unwrap())
}

const UPGRADE_HEADERS: &str = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

#[test]
fn a_page_served_by_handle_is_an_outcome_not_an_error() {
    let (answer, outcome) = raw_request_to_handle("GET /index HTTP/1.1\r\nHost: x\r\n\r\n", None);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n<p>page</p>"), "{answer}");
    match outcome.unwrap() {
        rfc6455::blocking::Outcome::Answered { request, status } => {
            assert_eq!((request.path(), status), ("/index", 200));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_head_request_gets_the_headers_without_the_body() {
    let (answer, outcome) = raw_request_to_handle("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", None);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Length: 11\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n"), "{answer}");
    assert!(matches!(
        outcome.unwrap(),
        rfc6455::blocking::Outcome::Answered { status: 200, .. }
    ));
}

#[test]
fn other_methods_get_405_or_for_an_upgrade_400() {
    let (answer, outcome) = raw_request_to_handle("POST / HTTP/1.1\r\nHost: x\r\n\r\n", None);
    assert!(
        answer.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Allow: GET, HEAD\r\n"), "{answer}");
    assert!(matches!(
        outcome,
        Err(Error::Handshake { error: HandshakeError::MethodNotAllowed(m), .. }) if m == "POST"
    ));

    let (answer, outcome) =
        raw_request_to_handle(&format!("PUT / HTTP/1.1\r\n{UPGRADE_HEADERS}\r\n"), None);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(matches!(
        outcome,
        Err(Error::Handshake { error: HandshakeError::MethodNotGet(m), .. }) if m == "PUT"
    ));
}

#[test]
fn accepting_a_subprotocol_not_offered_answers_500_and_says_why() {
    let (answer, outcome) = raw_request_to_handle(
        &format!("GET / HTTP/1.1\r\n{UPGRADE_HEADERS}\r\n"),
        Some("chat"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{answer}"
    );
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, Error::Handshake { error: HandshakeError::ProtocolNotOffered(p), .. } if p == "chat"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("\"chat\" was not offered"),
        "{error}"
    );
}

/// One close rule on both APIs: 1001 goes out through `WebSocket::close`
/// (a `u16` or a `CloseCode`) as through `Connection::close`.
#[test]
fn a_server_going_away_closes_with_1001() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new().accept(accept_one(&listener)).unwrap();
        ws.close(1001, "going down").unwrap();
        assert_eq!(ws.recv().unwrap(), None);
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    let event = ws.close_event().unwrap();
    assert_eq!(
        (event.code, event.reason.as_str(), event.was_clean),
        (CloseCode::GOING_AWAY, "going down", true)
    );
    server.join().unwrap();
    let mut conn = Connection::open(Role::Server, Config::default());
    conn.close(1001, "").unwrap();
    assert_eq!(conn.output(), b"\x88\x02\x03\xe9");
}

/// A read timeout the caller set is `Error::Timeout` naming the read, as a
/// handshake timeout is; never the stream's `WouldBlock`.
#[test]
fn a_read_timeout_is_error_timeout_and_the_connection_stays_open() {
    let (listener, url) = listen();
    let server = echo_once(listener);
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(Duration::from_millis(50)))
        .connect()
        .unwrap();
    let error = ws.recv().unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("read timeout"), "{error}");
    assert_eq!(ws.ready_state(), ReadyState::Open);
    ws.send_text("still here").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("still here")));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    server.join().unwrap();
}

/// The 101 is kept: its headers (cookies, custom ones) and subprotocol are
/// there for the client after `connect`.
#[test]
fn the_101_response_is_kept_with_its_headers() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new()
            .accept_with(accept_one(&listener), |req| {
                Ok(Accept::new()
                    .protocol(req.protocols().next().unwrap())
                    .header("Set-Cookie", "session=abc")
                    .header("Set-Cookie", "theme=dark")
                    .header("X-Server", "rfc6455"))
            })
            .unwrap();
        assert_eq!(ws.recv().unwrap(), None);
    });
    let mut ws = ClientBuilder::new(&url).protocol("chat").connect().unwrap();
    let response = ws.response().unwrap();
    assert_eq!(response.protocol(), Some("chat"));
    assert_eq!(
        response.headers().get_all("set-cookie").collect::<Vec<_>>(),
        ["session=abc", "theme=dark"]
    );
    assert_eq!(response.headers().get("X-Server"), Some("rfc6455"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    server.join().unwrap();
}

/// A refusal whose body never ends (no length, the connection kept open)
/// is reported at the handshake deadline with the body that came.
#[test]
fn a_refusal_without_an_end_is_reported_at_the_deadline_with_its_body() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let mut tcp = accept_one(&listener);
        let mut buf = [0u8; 4096];
        let _ = tcp.read(&mut buf);
        tcp.write_all(b"HTTP/1.1 503 Busy\r\n\r\ntry later")
            .unwrap();
        thread::sleep(Duration::from_millis(800));
    });
    let started = Instant::now();
    let result = ClientBuilder::new(&url)
        .handshake_timeout(Duration::from_millis(300))
        .connect();
    assert!(started.elapsed() < Duration::from_millis(700));
    match result {
        Err(Error::Handshake {
            error: HandshakeError::Rejected { status, body, .. },
            ..
        }) => {
            assert_eq!((status, body.as_slice()), (503, &b"try later"[..]));
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}

/// A client's I/O failure names the URL it was reaching, and keeps its kind
/// for callers who match on it.
#[test]
fn a_failed_connect_names_the_url() {
    let (listener, url) = listen();
    drop(listener); // nothing listens there now
    let url = format!("{url}/feed");
    let error = connect(&url).unwrap_err();
    assert!(
        matches!(&error, Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
    assert!(error.to_string().contains(&url), "{error}");
}

/// The split reader keeps the heartbeat: a peer that answers pings stays,
/// one that goes silent is dropped (1006) while senders are refused after.
#[test]
fn a_split_reader_keeps_the_heartbeat() {
    let (listener, _) = listen();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(100), Duration::from_millis(200))
            .accept(stream)
            .unwrap();
        let (mut reader, sender) = ws.split().unwrap();
        let started = Instant::now();
        let result = reader.recv();
        (
            result,
            started.elapsed(),
            reader.close_event().cloned(),
            sender.send_text("late").is_err(),
        )
    });
    let mut silent = common::raw::client(addr); // answers nothing
    let (result, elapsed, event, refused) = server.join().unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(event.unwrap().code, CloseCode::ABNORMAL);
    assert!(refused);
    // It was pinged before it was dropped.
    let mut got = Vec::new();
    let _ = silent.read_to_end(&mut got);
    assert_eq!(got.first(), Some(&0x89), "{got:?}");
}

/// A server that accepts one connection and says nothing until the client
/// hangs up (bounded by `LIMIT`).
fn silent_server(listener: TcpListener) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut stream = accept_one(&listener);
        let _ = stream.read_to_end(&mut Vec::new());
    })
}

#[test]
fn a_client_handshake_timeout_names_the_url() {
    let (listener, url) = listen();
    let server = silent_server(listener);
    let url = format!("{url}/quiet?room=1");
    let err = ClientBuilder::new(&url)
        .handshake_timeout(Duration::from_millis(200))
        .connect()
        .unwrap_err();
    common::assert_timeout_names(&err, &url);
    server.join().unwrap();
}

#[test]
fn a_client_rejection_names_the_url_and_status() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let _ = ServerBuilder::new().accept_with(accept_one(&listener), |_| {
            Err(Reject::new(403).body("go away"))
        });
    });
    let url = format!("{url}/private");
    let err = connect(&url).unwrap_err();
    common::assert_refusal_names(&err, &url);
    server.join().unwrap();
}

#[test]
fn a_password_in_the_url_never_shows_in_an_error() {
    // Refused before any connection is tried: nothing listens.
    let url = "ws://user:secret@127.0.0.1:9/";
    for err in [
        connect(url).unwrap_err(),
        ClientBuilder::new(url)
            .proxy("http://alice:secret@127.0.0.1:9")
            .connect()
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidUrl(_)), "{err:?}");
        let (shown, debug) = (err.to_string(), format!("{err:?}"));
        assert!(
            !shown.contains("secret") && !debug.contains("secret"),
            "{shown}"
        );
        assert!(shown.contains("credentials"), "{shown}");
    }
}
